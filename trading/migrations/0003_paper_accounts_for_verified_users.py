"""Every user verified before paper trading existed gets their paper account, as new ones do on
verification, and every active exchange connection its trading account.

Written with the historical models (the services may change later; this must not): the account, its
USDT balance at PAPER_STARTING_BALANCE and the `deposit` entry that explains it, as
`trading.services.accounts.paper_account_open` writes them. Users who already have one are skipped,
so running it again changes nothing.
"""

from decimal import Decimal

from django.conf import settings
from django.db import migrations

QUOTE = "USDT"


def open_paper_accounts(apps, schema_editor):
    EmailAddress = apps.get_model("account", "EmailAddress")
    TradingAccount = apps.get_model("trading", "TradingAccount")
    Balance = apps.get_model("trading", "Balance")
    LedgerEntry = apps.get_model("trading", "LedgerEntry")
    amount = Decimal(str(settings.PAPER_STARTING_BALANCE))
    verified = EmailAddress.objects.filter(verified=True).values_list("user_id", flat=True).distinct()
    have = set(TradingAccount.objects.filter(kind="paper").values_list("user_id", flat=True))
    for user_id in sorted(set(verified) - have):
        account = TradingAccount.objects.create(user_id=user_id, kind="paper", name="Paper account")
        Balance.objects.create(account=account, asset=QUOTE, total=amount)
        LedgerEntry.objects.create(
            account=account,
            asset=QUOTE,
            kind="deposit",
            amount=amount,
            balance_after=amount,
            note=f"Paper account opened with {amount:f} {QUOTE} of virtual money",
        )


def open_exchange_accounts(apps, schema_editor):
    """Connections made before trading accounts existed get theirs (balances come with the first sync)."""
    ExchangeConnection = apps.get_model("exchanges", "ExchangeConnection")
    TradingAccount = apps.get_model("trading", "TradingAccount")
    have = set(TradingAccount.objects.filter(kind="exchange").values_list("connection_id", flat=True))
    for connection in ExchangeConnection.objects.filter(revoked_at__isnull=True).exclude(pk__in=have):
        TradingAccount.objects.create(
            user_id=connection.user_id,
            kind="exchange",
            connection=connection,
            name=(connection.nickname or connection.exchange)[:80],
        )


def forwards(apps, schema_editor):
    open_paper_accounts(apps, schema_editor)
    open_exchange_accounts(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("account", "0009_emailaddress_unique_primary_email"),
        ("trading", "0002_ledger_orders"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
