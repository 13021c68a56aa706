"""The ledger's primitives: the only code that changes a Balance's total or lock.

Called inside other services' transactions (opening an account, placing, filling and cancelling
orders, syncing an exchange account), so they take no actor and never open their own transaction:
they refuse to run outside one, because a balance read without its row lock is a lost update
waiting to happen.

- `lock_balances` locks an account's balances of several assets in one query, in asset order, so
  two transactions needing the same balances always queue instead of deadlocking; a balance that
  does not exist yet is created (at zero) first.
- `post_entry` appends one immutable ledger entry and moves the total by its amount. It refuses to
  take the total below zero or below what is locked, so the sum of entries and the total never
  drift apart and the database's constraints are never the first to notice.
- `reserve` / `release` move the lock that open orders hold; spending more than is available is an
  `InsufficientFunds` with the numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from django.db import transaction

from trading.errors import InsufficientFunds
from trading.models import Balance, EntryKind, Fill, LedgerEntry, Order, TradingAccount, Withdrawal

logger = logging.getLogger(__name__)

# Amounts are stored with 18 decimals in 38 digits; Python's default context keeps only 28
# significant digits, so every computation of money runs in a wider one and is then quantized to
# what the database stores: the value in memory is exactly the value in the row.
PLACES = Decimal("1e-18")
WIDE = Context(prec=80)


def money(value: Decimal | int | str, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """`value` as stored: 18 decimals, rounded as asked (reservations round up, proceeds down)."""
    with localcontext(WIDE):
        return Decimal(value).quantize(PLACES, rounding=rounding)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Ledger writes run inside the caller's transaction (transaction.atomic).")


def lock_balances(account: TradingAccount, assets: Iterable[str]) -> dict[str, Balance]:
    """`account`'s balances of `assets`, locked (SELECT ... FOR UPDATE) in asset order until commit."""
    _require_transaction()
    wanted = sorted({asset for asset in assets if asset})
    if not wanted:
        return {}
    # Missing rows first (a concurrent creator is fine: the unique constraint keeps one row).
    if Balance.objects.filter(account=account, asset__in=wanted).count() < len(wanted):
        Balance.objects.bulk_create([Balance(account=account, asset=asset) for asset in wanted], ignore_conflicts=True)
    rows = Balance.objects.select_for_update().filter(account=account, asset__in=wanted).order_by("asset")
    return {balance.asset: balance for balance in rows}


def plain_amount(value: Decimal) -> str:
    """12.5 rather than 12.500000000000000000: how errors and notes say an amount."""
    return f"{Decimal(value).normalize():f}"


def post_entry(
    *,
    balance: Balance,
    kind: str,
    amount: Decimal,
    order: Order | None = None,
    fill: Fill | None = None,
    withdrawal: Withdrawal | None = None,
    note: str = "",
) -> LedgerEntry:
    """Append one entry of `amount` (signed) to a locked balance and move its total with it."""
    _require_transaction()
    if kind not in EntryKind.values:
        raise ValueError(f"Unknown ledger entry kind {kind!r}.")
    amount = money(amount)
    with localcontext(WIDE):
        new_total = balance.total + amount
    if new_total < 0 or new_total < balance.locked:
        raise InsufficientFunds(
            asset=balance.asset, required=plain_amount(-amount), available=plain_amount(balance.available)
        )
    balance.total = new_total
    balance.save(update_fields=["total", "updated_at"])
    return LedgerEntry.objects.create(
        account_id=balance.account_id,
        asset=balance.asset,
        kind=kind,
        amount=amount,
        balance_after=new_total,
        order=order,
        fill=fill,
        withdrawal=withdrawal,
        note=note[:200],
    )


def reserve(*, balance: Balance, amount: Decimal, field: str | None = None) -> None:
    """Lock `amount` of a locked balance for an open order; InsufficientFunds when not available."""
    _require_transaction()
    amount = money(amount)
    if amount <= 0:
        return
    if amount > balance.available:
        raise InsufficientFunds(
            asset=balance.asset,
            required=plain_amount(amount),
            available=plain_amount(balance.available),
            field=field,
        )
    with localcontext(WIDE):
        balance.locked += amount
    balance.save(update_fields=["locked", "updated_at"])


def release(*, balance: Balance, amount: Decimal) -> None:
    """Give back `amount` of the lock (an order filled, was cancelled or expired)."""
    _require_transaction()
    amount = money(amount)
    if amount <= 0:
        return
    if amount > balance.locked:
        # Only an exchange sync that lowered the lock meanwhile can cause this; never go negative.
        logger.warning(
            "Releasing %s %s but only %s is locked on balance %s", amount, balance.asset, balance.locked, balance.pk
        )
        amount = balance.locked
    with localcontext(WIDE):
        balance.locked -= amount
    balance.save(update_fields=["locked", "updated_at"])
