"""trading app."""

from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        from exchanges.market.signals import price_tick
        from trading.receivers import evaluate_alerts_on_tick

        # A dispatch_uid, so a second ready() (tests, autoreload) cannot evaluate every tick twice.
        price_tick.connect(evaluate_alerts_on_tick, dispatch_uid="trading.alerts_evaluate")
