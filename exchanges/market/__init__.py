"""Market data: symbols, candles, the ticker feed (live through ccxt, or the offline replay), the live
price publisher and its websocket. Public, keyless reads: nothing here touches a trader's keys."""
