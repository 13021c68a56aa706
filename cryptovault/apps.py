from django.apps import AppConfig


class CryptoVaultConfig(AppConfig):
    """The project package as an app: shared templates, commands and tasks."""

    name = "cryptovault"
    verbose_name = "CryptoVault"
