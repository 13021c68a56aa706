from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self) -> None:
        from accounts.services.your_data import account_deleting, data_export_parts
        from exchanges.receivers import export_connections, revoke_connections_of_deleted_account

        data_export_parts.connect(export_connections, dispatch_uid="exchanges.export")
        account_deleting.connect(revoke_connections_of_deleted_account, dispatch_uid="exchanges.account_deleting")
