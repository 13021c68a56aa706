"""Sent after every price tick, so other apps react (trading's price alerts) without exchanges
importing them: `price_tick.send(sender=None, tickers=[Ticker, ...])`."""

from django.dispatch import Signal

price_tick = Signal()
