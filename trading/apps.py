"""trading app."""

from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        from accounts.services.your_data import account_deleting, data_export_parts
        from exchanges.market.signals import price_tick
        from trading.receivers import cancel_alerts_of_deleted_account, evaluate_alerts_on_tick, export_alerts

        # A dispatch_uid, so a second ready() (tests, autoreload) cannot evaluate every tick twice.
        price_tick.connect(evaluate_alerts_on_tick, dispatch_uid="trading.alerts_evaluate")
        data_export_parts.connect(export_alerts, dispatch_uid="trading.export")
        account_deleting.connect(cancel_alerts_of_deleted_account, dispatch_uid="trading.account_deleting")
