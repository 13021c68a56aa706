"""A loopback emulator of the exchanges CryptoVault connects to (Binance spot and KuCoin).

Tests and the offline demo point ccxt's real clients at it instead of the internet, so every
connection, signature, error answer and timeout goes through ccxt's own code. The layout:

- `server.py`: `Emulator`, the threaded HTTP server and the switches (keys, faults, prices, clock);
- `state.py`: keys, accounts, balances, orders and the small order engine;
- `binance.py`, `kucoin.py`: each exchange's paths, payloads, signature checks and error codes;
- `market.py`: the ten USDT pairs, their rules, prices and candles (from `candles.json`, written
  by `snapshot.py` from real Binance candles);
- `follow.py`: the replay's prices, which the demo's emulator follows (`--follow-replay`);
- `demo.py`: the published demo keys `manage.py exchange_emulator --demo-keys` issues.
"""

from exchanges.emulator.server import Emulator

__all__ = ["Emulator"]
