"""Plain helpers for the wallet tests: whitelisted addresses added through H5a's service (with the second
factor) and moved past their cooldown, actors with and without a fresh second factor, and the question
"was anything written?"."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Notification
from cryptovault.actor import Actor
from security.models import AuditEvent, WithdrawalAddress
from security.services.whitelist import withdrawal_address_add
from tests.fakes.authenticator import unused_totp_code
from trading.models import Balance, LedgerEntry, TradingAccount, Withdrawal
from trading.services.withdrawals import withdrawal_request

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's test case
HOME_IP = "203.0.113.7"


def person(user, *, proved: bool = False, ip: str = HOME_IP) -> Actor:
    """The user on the API; `proved`: they passed the second factor a moment ago (a fresh step-up)."""
    return Actor(
        user=user,
        via="api",
        ip=ip,
        user_agent="pytest",
        request_id="req-wallet",
        second_factor_at=time.time() if proved else None,
    )


def whitelisted(
    user,
    *,
    asset: str = "USDT",
    network: str = "ETH",
    address: str = EVM_ADDRESS,
    memo: str = "",
    label: str = "Ledger",
    cooled: bool = True,
) -> WithdrawalAddress:
    """A whitelist entry added through the service (with a code); `cooled`: its cooldown is over."""
    entry = withdrawal_address_add(
        actor=person(user),
        asset=asset,
        network=network,
        address=address,
        memo=memo,
        label=label,
        otp_code=unused_totp_code(user),
    )
    if cooled:
        WithdrawalAddress.objects.filter(pk=entry.pk).update(usable_from=timezone.now() - timezone.timedelta(seconds=1))
        entry.refresh_from_db()
    return entry


def withdraw(
    account: TradingAccount, entry: WithdrawalAddress | None = None, *, amount: Any = "100", **fields: Any
) -> Withdrawal:
    """A withdrawal requested by the account's owner with a fresh second factor."""
    values: dict[str, Any] = {"asset": "USDT", "network": "ETH", "amount": amount}
    if entry is not None:
        values.update(asset=entry.asset, network=entry.network, destination_id=entry.pk)
    values.update(fields)
    return withdrawal_request(actor=person(account.user, proved=True), account=account, **values)


def balance_of(account: TradingAccount, asset: str = "USDT") -> Decimal:
    row = Balance.objects.filter(account=account, asset=asset).first()
    return row.total if row else Decimal(0)


def nothing_withdrawn(account: TradingAccount) -> bool:
    user = account.user
    return (
        not Withdrawal.objects.filter(account__user=user).exists()
        and not LedgerEntry.objects.filter(account__user=user, kind="withdrawal").exists()
        and not AuditEvent.objects.filter(user=user, action="withdrawal.requested").exists()
        and not Notification.objects.filter(user=user, event="security.withdrawal_requested").exists()
    )
