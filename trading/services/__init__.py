"""Writes of the trading app. Pages, the API, the admin and the price feed all come through here.

`alerts`: create, cancel and fire price alerts (fired from every price tick, once).
`ledger`: the only writer of balances (row locks in asset order, append-only entries).
`accounts`: paper accounts (open, reset) and the trading account of each exchange connection.
`orders`: place and cancel, idempotent by client order id, every rule of what may be placed.
`engine`: `fill` (the one writer of fills) and `evaluate_tick` (resting and held orders on every tick).
`live`: orders of exchange accounts through ccxt, and the sync of their orders and balances.
`portfolio`: the daily equity snapshots.
"""
