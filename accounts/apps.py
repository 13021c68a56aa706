from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's own app (email addresses) is also called "Accounts" in the admin.
    verbose_name = "Users and sign-in"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401 - connects the audit receivers
