"""Daily equity snapshots: what each user's accounts were worth, one row per user per UTC day.

The analytics issue reads them as an equity curve. A snapshot is the portfolio's valuation
(`trading.portfolio`, average cost) at the moment it is taken, stored with its per-asset breakdown;
the `trading.snapshot_equity` beat task takes everyone's shortly after midnight UTC, so a day's
row is the value as that day began. `day` only names the row: prices are always the current ones
(no historical prices are invented), so a row written later for a past day says what things are
worth now.

Taking a snapshot again for the same (user, day) replaces that row (`update_or_create` / an upsert
on the unique constraint): a task retried, run twice or run by hand never makes a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from itertools import groupby
from typing import Any

from django.db.models import Q
from django.utils import timezone

from trading.models import Balance, EquitySnapshot, TradingAccount
from trading.portfolio import Portfolio, current_tickers, decimal_text, value_portfolio
from trading.selectors import portfolio_for

# Users valued per round of `snapshots_take_all`: one balances query and one upsert each.
BATCH_SIZE = 500

Progress = Callable[[int, int], None]  # (users done, users in all)


def utc_today() -> date:
    return datetime.now(UTC).date()


def snapshot_holdings(portfolio: Portfolio) -> dict[str, dict[str, str | None]]:
    """The per-asset breakdown kept with a snapshot: quantity, price and value as strings (None:
    no price, the asset left out of the total)."""
    return {
        holding.asset: {
            "quantity": decimal_text(holding.quantity),
            "price": decimal_text(holding.price),
            "value": decimal_text(holding.value),
        }
        for holding in portfolio.holdings
        if holding.quantity
    }


def equity_snapshot_take(*, user: Any, day: date | None = None) -> EquitySnapshot:
    """The user's snapshot for `day` (today, UTC, by default), written or replaced; one per day."""
    portfolio = portfolio_for(user)
    snapshot, _created = EquitySnapshot.objects.update_or_create(
        user=user,
        date=day or utc_today(),
        defaults={
            "total_value": portfolio.total_value,
            "holdings": snapshot_holdings(portfolio),
            "created_at": timezone.now(),
        },
    )
    return snapshot


def _batches(user_ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(user_ids), BATCH_SIZE):
        yield user_ids[start : start + BATCH_SIZE]


def snapshots_take_all(*, day: date | None = None, on_progress: Progress | None = None) -> int:
    """Everyone's snapshot for `day` (today, UTC): every user with an active trading account, one
    row each (a user holding nothing gets a zero, so the curve has no gaps). Returns how many.

    The system's read of every account (no person's gate): one call for the prices, then per
    BATCH_SIZE users one balances query and one upsert, `on_progress(done, total)` after each, so a
    command can show progress and the task's cost grows with users / BATCH_SIZE queries.
    """
    day = day or utc_today()
    market = current_tickers()
    user_ids = list(
        TradingAccount.objects.filter(is_active=True).order_by("user_id").values_list("user_id", flat=True).distinct()
    )
    done = 0
    for batch in _batches(user_ids):
        balances = (
            Balance.objects.filter(account__user_id__in=batch, account__is_active=True)
            .filter(~Q(total=0) | ~Q(realized_pnl=0))
            .select_related("account")
            .order_by("account__user_id", "asset", "account_id")
        )
        by_user = {
            user_id: value_portfolio(rows, market)
            for user_id, rows in groupby(balances, key=lambda balance: balance.account.user_id)
        }
        now = timezone.now()
        empty = value_portfolio([], market)
        snapshots = [
            EquitySnapshot(
                user_id=user_id,
                date=day,
                total_value=by_user.get(user_id, empty).total_value,
                holdings=snapshot_holdings(by_user.get(user_id, empty)),
                created_at=now,
            )
            for user_id in batch
        ]
        EquitySnapshot.objects.bulk_create(
            snapshots,
            update_conflicts=True,
            unique_fields=["user", "date"],
            update_fields=["total_value", "holdings", "created_at"],
        )
        done += len(batch)
        if on_progress is not None:
            on_progress(done, len(user_ids))
    return done
