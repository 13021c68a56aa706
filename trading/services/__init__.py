"""Writes of the trading app. Pages, the API, the admin and the price feed all come through here.

`alerts`: create, cancel and fire price alerts (fired from every price tick, once).
"""
