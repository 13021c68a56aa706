"""Trading's Celery tasks: exchange accounts synced, triggered orders sent, equity snapshots taken,
withdrawals processed once their hold ends and followed on their exchange.

As in `exchanges.tasks`: tasks take ids, load the rows, build a task actor and call one service. The
sync fans out one task per account, so one slow exchange delays no other user's sync and a retry
repeats one account, not all. Nothing here retries an order placement: a repeated `create_order`
could trade twice, so an order whose outcome is unknown waits for the sync, which asks the exchange.
"""

from __future__ import annotations

import logging

from celery import shared_task

from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from trading.models import AccountKind, Execution, Order, TradingAccount

logger = logging.getLogger(__name__)


@shared_task(name="trading.sync_exchange_accounts", bind=True)
def sync_exchange_accounts(self) -> int:
    """One `trading.sync_exchange_account` per active exchange account, on the queue this one came from."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    ids = list(
        TradingAccount.objects.filter(kind=AccountKind.EXCHANGE, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for account_id in ids:
        sync_exchange_account.apply_async((account_id,), queue=queue)
    return len(ids)


@shared_task(name="trading.sync_exchange_account", bind=True)
def sync_exchange_account(self, account_id: int) -> dict:
    from trading.services.live import account_sync

    account = (
        TradingAccount.objects.filter(pk=account_id, kind=AccountKind.EXCHANGE, is_active=True)
        .select_related("connection", "user")
        .first()
    )
    if account is None:
        return {"account_id": account_id, "ok": False, "error": "gone"}
    try:
        result = account_sync(actor=Actor.for_task(self.request.id), account=account)
    except DomainError as refused:  # closed meanwhile
        return {"account_id": account_id, "ok": False, "error": refused.code}
    return {
        "account_id": account_id,
        "ok": result.ok,
        "error": result.error,
        "adjustments": result.adjustments,
        "fills": result.fills,
        "orders_updated": result.orders_updated,
    }


@shared_task(name="trading.submit_triggered_order", bind=True)
def submit_triggered_order(self, order_id: int) -> str:
    """An emulated order whose trigger fired goes to the exchange (as market, or limit at its price)."""
    from trading.services.live import live_submit

    order = (
        Order.objects.filter(pk=order_id, execution=Execution.EMULATED, triggered_at__isnull=False)
        .select_related("account__connection")
        .first()
    )
    if order is None:
        return "gone"
    if not order.is_open or order.exchange_order_id:  # sent already, or closed meanwhile
        return order.status
    try:
        order = live_submit(order=order, actor=Actor.for_task(self.request.id))
    except DomainError as refused:  # rejected by the exchange: recorded, announced
        return refused.code
    return order.status


@shared_task(name="trading.snapshot_equity", bind=True)
def snapshot_equity(self) -> int:
    """Every user's equity snapshot for today (the analytics issue's history)."""
    from trading.services.portfolio import snapshots_take_all

    return snapshots_take_all()


@shared_task(name="trading.process_withdrawals", bind=True)
def process_withdrawals(self) -> dict:
    """Withdrawals whose hold ended: paper ones completed, exchange ones sent through ccxt (each claimed by a
    conditional update, so two workers never send one twice); then submitted ones followed on their exchange."""
    from trading.models import Withdrawal
    from trading.services.withdrawals import withdrawal_process, withdrawals_due, withdrawals_track

    actor = Actor.for_task(self.request.id)
    processed = 0
    for withdrawal_id in withdrawals_due():
        withdrawal = Withdrawal.objects.filter(pk=withdrawal_id).first()
        if withdrawal is None:
            continue
        try:
            withdrawal_process(actor=actor, withdrawal=withdrawal)
        except Exception:  # one withdrawal that cannot be processed does not stop the others
            logger.exception("withdrawal %s could not be processed", withdrawal_id)
            continue
        processed += 1
    return {"processed": processed, "finished": withdrawals_track(actor=actor)}
