"""Trading accounts: the paper account every verified user gets, and one account per exchange connection.

Opening is idempotent (a second call returns the account the first made, even when two race: the
database allows one paper account per user and one account per connection), so the receivers can
call it on every verification and every new connection without checking first.

A paper account starts with PAPER_STARTING_BALANCE USDT, written as a `deposit` entry, so even the
first balance is explained by the ledger. A reset cancels the open orders, empties every asset with
`reset` entries and deposits the starting balance again as one more `reset` entry: the history
stays, and the account's realised PnL and cost basis start over.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from exchanges.models import ExchangeConnection
from security.audit import audit_record
from security.ip_allowlist import protected_action
from trading.models import AccountKind, Balance, EntryKind, Order, TradingAccount, Withdrawal
from trading.models.accounts import QUOTE_CURRENCY
from trading.services.ledger import lock_balances, post_entry

logger = logging.getLogger(__name__)

PAPER_ACCOUNT_NAME = "Paper account"


class NotAPaperAccount(DomainError):
    status_code = 409
    code = "not_a_paper_account"
    default_message = "Only a paper account can be reset: an exchange account's balances are the exchange's."


def starting_balance() -> Decimal:
    return Decimal(str(settings.PAPER_STARTING_BALANCE))


def paper_account_open(*, actor: Actor, user: User) -> TradingAccount:
    """The user's paper account, opened with the starting balance the first time."""
    existing = TradingAccount.objects.visible_to(user).paper().first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            account = TradingAccount.objects.create(user=user, kind=AccountKind.PAPER, name=PAPER_ACCOUNT_NAME)
            amount = starting_balance()
            balances = lock_balances(account, [QUOTE_CURRENCY])
            post_entry(
                balance=balances[QUOTE_CURRENCY],
                kind=EntryKind.DEPOSIT,
                amount=amount,
                note=f"Paper account opened with {amount:f} {QUOTE_CURRENCY} of virtual money",
            )
            audit_record("paper.opened", actor=actor, user=user, account_id=account.pk, amount=f"{amount:f}")
    except IntegrityError:
        # Another call opened it between our read and our insert: theirs is the one.
        return TradingAccount.objects.get(user=user, kind=AccountKind.PAPER)
    return account


@protected_action("paper.reset")
def paper_account_reset(*, actor: Actor, account: TradingAccount) -> TradingAccount:
    """Back to the starting balance: open orders cancelled, pending withdrawals cancelled, every asset
    emptied, the deposit again.

    Locks in the order `withdrawal_request` and `withdrawal_cancel` take them: the user's row first (so
    a request is either committed before the reset, whose withdrawal the reset then sees and cancels,
    or waits and runs on the fresh balance), then the account, its open orders, its open withdrawals,
    and every balance (sorted by asset, as every writer of balances locks them) before any withdrawal
    is cancelled.
    """
    from trading.services.orders import cancel_in_transaction, order_events_on_commit
    from trading.services.withdrawals import cancel_pending_in_transaction

    if not account.is_paper:
        raise NotAPaperAccount()
    with transaction.atomic():
        User.objects.select_for_update().only("pk").get(pk=account.user_id)  # as withdrawal_request: first
        account = TradingAccount.objects.select_for_update().get(pk=account.pk)
        cancelled = []
        for order in Order.objects.select_for_update().filter(account=account).open().order_by("id"):
            if cancel_in_transaction(order, reason="account reset"):
                cancelled.append(order)
        pending = list(Withdrawal.objects.select_for_update().filter(account=account).open().order_by("id"))
        assets = set(Balance.objects.filter(account=account).values_list("asset", flat=True)) | {QUOTE_CURRENCY}
        balances = lock_balances(account, assets)
        # A pending withdrawal comes back before the balances empty, so cancelling it later cannot
        # credit its amount on top of the fresh starting balance.
        withdrawals = [
            withdrawal.pk
            for withdrawal in pending
            if cancel_pending_in_transaction(withdrawal, note=f"Withdrawal {withdrawal.pk} cancelled by the reset")
        ]
        if withdrawals:
            balances = lock_balances(account, assets)  # read again: the cancels credited them (locks held)
        for balance in balances.values():
            if balance.total:
                post_entry(balance=balance, kind=EntryKind.RESET, amount=-balance.total, note="Paper account reset")
            balance.cost_basis = Decimal(0)
            balance.realized_pnl = Decimal(0)
            balance.save(update_fields=["cost_basis", "realized_pnl", "updated_at"])
        amount = starting_balance()
        post_entry(
            balance=balances[QUOTE_CURRENCY],
            kind=EntryKind.RESET,
            amount=amount,
            note=f"Paper account reset to {amount:f} {QUOTE_CURRENCY}",
        )
        account.reset_at = timezone.now()
        account.save(update_fields=["reset_at"])
        audit_record(
            "paper.reset",
            actor=actor,
            user=account.user,
            account_id=account.pk,
            amount=f"{amount:f}",
            orders_cancelled=len(cancelled),
            withdrawals_cancelled=len(withdrawals),
        )
        for order in cancelled:
            order_events_on_commit(order, "order.cancelled")
    return account


def exchange_account_open(*, actor: Actor, connection: ExchangeConnection) -> TradingAccount:
    """The trading account of an exchange connection (one per connection); balances come with its sync."""
    existing = TradingAccount.objects.filter(connection=connection).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            account = TradingAccount.objects.create(
                user_id=connection.user_id,
                kind=AccountKind.EXCHANGE,
                connection=connection,
                name=str(connection.nickname or connection.exchange)[:80],
                is_active=connection.revoked_at is None,
            )
            audit_record(
                "trading_account.opened",
                actor=actor,
                user=connection.user,
                account_id=account.pk,
                connection_id=connection.pk,
                exchange=connection.exchange,
            )
            if account.is_active:
                # Balances come from the exchange: read them now rather than at the next beat.
                transaction.on_commit(lambda: _sync_soon(account.pk))
    except IntegrityError:
        return TradingAccount.objects.get(connection=connection)
    return account


def _sync_soon(account_id: int) -> None:
    from trading.tasks import sync_exchange_account

    try:
        sync_exchange_account.delay(account_id)
    except Exception:  # a broker down must not undo the connection; the beat syncs it later
        logger.warning("Could not enqueue the first sync of trading account %s.", account_id, exc_info=True)


def exchange_account_close(*, actor: Actor, connection: ExchangeConnection) -> None:
    """The connection's keys are revoked: the orders held here are cancelled and the account closes.

    Orders that are, or may be, at the exchange stay the exchange's business: native ones, and held
    ones that were sent or are in flight (being sent, or their answer lost). The keys are wiped
    before this runs, so nothing can cancel them there any more, and marking them cancelled here
    while they may still trade there would be a lie: they keep their last known status, and an
    OCO with a leg sent is left whole. The account keeps its history, read-only.
    """
    from trading.models import Execution
    from trading.services.live import was_sent
    from trading.services.orders import _lock_group, cancel_in_transaction, order_events_on_commit

    account = TradingAccount.objects.filter(connection=connection).first()
    if account is None:
        return
    with transaction.atomic():
        account = TradingAccount.objects.select_for_update().get(pk=account.pk)
        cancelled = []
        for order in (
            Order.objects.select_for_update()
            .filter(account=account, execution=Execution.EMULATED)
            .open()
            .order_by("id")
        ):
            if any(leg.is_open and was_sent(leg) for leg in _lock_group(order)):
                continue  # (part of it) at the exchange, or maybe: left as it is
            if cancel_in_transaction(order, reason="exchange connection revoked"):
                cancelled.append(order)
        if account.is_active:
            account.is_active = False
            account.save(update_fields=["is_active"])
            audit_record(
                "trading_account.closed",
                actor=actor,
                user=connection.user,
                account_id=account.pk,
                connection_id=connection.pk,
                orders_cancelled=len(cancelled),
            )
        for order in cancelled:
            order_events_on_commit(order, "order.cancelled")
