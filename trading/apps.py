"""trading app."""

from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        from allauth.account.models import EmailAddress
        from allauth.account.signals import email_confirmed
        from django.db.models.signals import post_save

        from accounts.services.your_data import account_deleting, data_export_parts
        from exchanges.market.signals import price_tick
        from exchanges.models import ExchangeConnection
        from trading.receivers import (
            cancel_alerts_of_deleted_account,
            cancel_orders_of_deleted_account,
            evaluate_alerts_on_tick,
            evaluate_orders_on_tick,
            export_alerts,
            export_trading,
            follow_exchange_connection,
            open_paper_account_on_email_confirmed,
            open_paper_account_on_verified_address,
        )

        # A dispatch_uid, so a second ready() (tests, autoreload) cannot evaluate every tick twice.
        price_tick.connect(evaluate_alerts_on_tick, dispatch_uid="trading.alerts_evaluate")
        price_tick.connect(evaluate_orders_on_tick, dispatch_uid="trading.engine_evaluate")
        email_confirmed.connect(open_paper_account_on_email_confirmed, dispatch_uid="trading.paper_on_email_confirmed")
        post_save.connect(
            open_paper_account_on_verified_address,
            sender=EmailAddress,
            dispatch_uid="trading.paper_on_verified_address",
        )
        post_save.connect(
            follow_exchange_connection, sender=ExchangeConnection, dispatch_uid="trading.follow_exchange_connection"
        )
        data_export_parts.connect(export_alerts, dispatch_uid="trading.export")
        data_export_parts.connect(export_trading, dispatch_uid="trading.export_trading")
        account_deleting.connect(cancel_alerts_of_deleted_account, dispatch_uid="trading.account_deleting")
        account_deleting.connect(cancel_orders_of_deleted_account, dispatch_uid="trading.orders_account_deleting")
