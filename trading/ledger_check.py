"""The ledger's invariants, checked against the database (`manage.py verify_ledger` prints them).

1. Each balance's total is the sum of its entries (and no entry's asset lacks a balance).
2. Each entry's `balance_after` is the running sum of the entries before it (in id order).
3. Paper accounts: each balance's lock is the sum of what its open orders still reserve.
4. Nothing is negative: totals, locks, reservations, `balance_after`; no lock exceeds its total.
5. Each order's fills add up to its filled quantity.
6. Withdrawals: a paper withdrawal's entries debit its amount once (and credit it back once when
   cancelled); an exchange withdrawal has none (the exchange's balance, synced, says what left).

Reads only, in a few aggregate queries plus one pass over the entries (streamed), so it runs on a
live database. A drift names the account, the asset or order and both numbers.

PostgreSQL keeps NUMERIC(38, 18) exactly and is compared exactly. SQLite (the embedded demo) stores a
decimal column as an 8-byte float, so an amount like 7000.4256451043815 comes back as
7000.42564510438: there two amounts are the same when they agree to 15 significant digits, the most
a float keeps (`SQLITE_SIGNIFICANT_DIGITS`), and `verify_ledger` says so. Anything else is drift.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from django.db import connection
from django.db.models import F, Q, QuerySet, Sum

from trading.models import (
    OPEN_STATUSES,
    AccountKind,
    Balance,
    Fill,
    LedgerEntry,
    Order,
    Withdrawal,
    WithdrawalStatus,
)
from trading.services.ledger import WIDE


@dataclass(frozen=True)
class Drift:
    account_id: int
    subject: str  # "USDT", "order 12"
    message: str

    def __str__(self) -> str:
        return f"account {self.account_id} {self.subject}: {self.message}"


@dataclass
class CheckResult:
    name: str
    description: str
    checked: int = 0
    drifts: list[Drift] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts


@dataclass
class LedgerReport:
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def drifts(self) -> list[Drift]:
        return [drift for result in self.results for drift in result.drifts]


SQLITE_SIGNIFICANT_DIGITS = 15


def exact() -> bool:
    """Whether this database keeps every stored decimal digit (PostgreSQL), so amounts compare exactly."""
    return connection.vendor == "postgresql"


def _same(a: Decimal | None, b: Decimal | None) -> bool:
    a, b = a or Decimal(0), b or Decimal(0)
    if a == b:
        return True
    if exact():
        return False
    with localcontext(WIDE):
        scale = max(abs(a), abs(b))
        return abs(a - b) <= scale * Decimal(10) ** -(SQLITE_SIGNIFICANT_DIGITS - 1)


def _plain(value: Decimal | None) -> str:
    return "0" if value is None else f"{value.normalize():f}"


def _scoped(query: QuerySet, account_ids: Iterable[int] | None, path: str = "account_id") -> QuerySet:
    return query if account_ids is None else query.filter(**{f"{path}__in": list(account_ids)})


def _sums(query: QuerySet, keys: tuple[str, ...], value: str) -> dict[tuple, Decimal]:
    """SUM(value) GROUP BY keys. PostgreSQL adds NUMERICs exactly in SQL; SQLite keeps decimals as
    floats and SUMs them as floats, so there the exact Decimals are added up here instead."""
    if exact():
        return {
            tuple(row[key] for key in keys): row["summed"]
            for row in query.order_by().values(*keys).annotate(summed=Sum(value))
        }
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for *group, amount in query.order_by().values_list(*keys, value).iterator(chunk_size=5000):
        with localcontext(WIDE):
            sums[tuple(group)] += amount or Decimal(0)
    return dict(sums)


def check_totals(account_ids: Iterable[int] | None = None) -> CheckResult:
    result = CheckResult("totals", "each balance's total equals the sum of its ledger entries")
    sums = _sums(_scoped(LedgerEntry.objects.all(), account_ids), ("account_id", "asset"), "amount")
    for balance in _scoped(Balance.objects.all(), account_ids).only("account_id", "asset", "total"):
        result.checked += 1
        summed = sums.pop((balance.account_id, balance.asset), None) or Decimal(0)
        if not _same(summed, balance.total):
            result.drifts.append(
                Drift(
                    balance.account_id,
                    balance.asset,
                    f"total {_plain(balance.total)} but its entries sum to {_plain(summed)}",
                )
            )
    for (account_id, asset), summed in sums.items():
        result.drifts.append(Drift(account_id, asset, f"entries sum to {_plain(summed)} but there is no balance"))
    return result


def check_chains(account_ids: Iterable[int] | None = None) -> CheckResult:
    result = CheckResult("balance_after", "each entry's balance_after is the running sum of its asset's entries")
    running: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    rows = (
        _scoped(LedgerEntry.objects.all(), account_ids)
        .order_by("account_id", "asset", "id")
        .values_list("id", "account_id", "asset", "amount", "balance_after")
    )
    for entry_id, account_id, asset, amount, after in rows.iterator(chunk_size=5000):
        result.checked += 1
        key = (account_id, asset)
        with localcontext(WIDE):
            running[key] += amount
        if not _same(running[key], after):
            result.drifts.append(
                Drift(
                    account_id,
                    asset,
                    f"entry {entry_id} says balance_after {_plain(after)}, the entries up to it sum to "
                    f"{_plain(running[key])}",
                )
            )
    return result


def check_locks(account_ids: Iterable[int] | None = None) -> CheckResult:
    result = CheckResult("locked", "paper accounts: each balance's lock equals its open orders' reservations")
    open_paper = Order.objects.filter(status__in=OPEN_STATUSES, account__kind=AccountKind.PAPER)
    reserved = _sums(_scoped(open_paper, account_ids), ("account_id", "reserved_asset"), "reserved_amount")
    paper = _scoped(Balance.objects.filter(account__kind=AccountKind.PAPER), account_ids)
    for balance in paper.only("account_id", "asset", "locked"):
        result.checked += 1
        held = reserved.pop((balance.account_id, balance.asset), None) or Decimal(0)
        if not _same(held, balance.locked):
            result.drifts.append(
                Drift(
                    balance.account_id,
                    balance.asset,
                    f"locked {_plain(balance.locked)} but its open orders reserve {_plain(held)}",
                )
            )
    for (account_id, asset), held in reserved.items():
        if held:
            result.drifts.append(
                Drift(account_id, asset, f"open orders reserve {_plain(held)} but there is no balance")
            )
    return result


def check_not_negative(account_ids: Iterable[int] | None = None) -> CheckResult:
    result = CheckResult(
        "not_negative", "no negative total, lock, reservation or balance_after; no lock over its total"
    )
    balances = _scoped(Balance.objects.all(), account_ids)
    result.checked = balances.count()
    for balance in balances.filter(Q(total__lt=0) | Q(locked__lt=0) | Q(locked__gt=F("total"))):
        result.drifts.append(
            Drift(balance.account_id, balance.asset, f"total {_plain(balance.total)}, locked {_plain(balance.locked)}")
        )
    for entry in _scoped(LedgerEntry.objects.filter(balance_after__lt=0), account_ids):
        result.drifts.append(
            Drift(entry.account_id, entry.asset, f"entry {entry.pk} leaves {_plain(entry.balance_after)}")
        )
    for order in _scoped(Order.objects.filter(reserved_amount__lt=0), account_ids):
        result.drifts.append(Drift(order.account_id, f"order {order.pk}", f"reserves {_plain(order.reserved_amount)}"))
    return result


def check_fills(account_ids: Iterable[int] | None = None) -> CheckResult:
    result = CheckResult("fills", "each order's fills add up to its filled quantity")
    sums = {
        row["order_id"]: row["filled"]
        for row in _scoped(Fill.objects.all(), account_ids)
        .order_by()
        .values("order_id")
        .annotate(filled=Sum("quantity"))
    }
    orders = _scoped(Order.objects.filter(Q(filled_quantity__gt=0) | Q(pk__in=list(sums))), account_ids)
    for order_id, account_id, filled_quantity in orders.values_list("id", "account_id", "filled_quantity").iterator(
        chunk_size=5000
    ):
        result.checked += 1
        filled = sums.get(order_id) or Decimal(0)
        if not _same(filled, filled_quantity):
            result.drifts.append(
                Drift(
                    account_id,
                    f"order {order_id}",
                    f"filled quantity {_plain(filled_quantity)} but its fills add up to {_plain(filled)}",
                )
            )
    return result


def check_withdrawals(account_ids: Iterable[int] | None = None) -> CheckResult:
    result = CheckResult(
        "withdrawals", "paper withdrawals debit their amount once (credited back once if cancelled); exchange ones none"
    )
    entries: dict[int, list[Decimal]] = defaultdict(list)
    linked = _scoped(LedgerEntry.objects.filter(withdrawal__isnull=False), account_ids)
    for withdrawal_id, amount in linked.values_list("withdrawal_id", "amount").iterator(chunk_size=5000):
        entries[withdrawal_id].append(amount)
    rows = _scoped(Withdrawal.objects.all(), account_ids).values_list(
        "id", "account_id", "account__kind", "amount", "status"
    )
    for withdrawal_id, account_id, kind, amount, status in rows.iterator(chunk_size=5000):
        result.checked += 1
        found = sorted(entries.pop(withdrawal_id, []))
        if kind != AccountKind.PAPER:
            expected: list[Decimal] = []
        elif status == WithdrawalStatus.CANCELLED:
            expected = [-amount, amount]
        else:
            expected = [-amount]
        if len(found) != len(expected) or not all(_same(a, b) for a, b in zip(found, expected, strict=False)):
            result.drifts.append(
                Drift(
                    account_id,
                    f"withdrawal {withdrawal_id}",
                    f"{status}: entries {', '.join(_plain(a) for a in found) or 'none'}, expected "
                    f"{', '.join(_plain(a) for a in expected) or 'none'}",
                )
            )
    return result


CHECKS: tuple[Callable[[Iterable[int] | None], CheckResult], ...] = (
    check_totals,
    check_chains,
    check_locks,
    check_not_negative,
    check_fills,
    check_withdrawals,
)


def check_ledger(
    *, account_ids: Iterable[int] | None = None, progress: Callable[[CheckResult], None] | None = None
) -> LedgerReport:
    """Every invariant, for every account (or those of `account_ids`); `progress` hears each result."""
    ids = None if account_ids is None else list(account_ids)
    results = []
    for check in CHECKS:
        outcome = check(ids)
        results.append(outcome)
        if progress is not None:
            progress(outcome)
    return LedgerReport(results)
