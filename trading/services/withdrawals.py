"""Withdrawals: money leaving a trading account for an outside address.

**Requesting** (`withdrawal_request`) checks, in this order, and writes nothing unless all pass:
the IP allowlist (`@protected_action`, before anything else), the asset and network
(`security.addresses.networks`), the amount (a plain positive decimal of at most 8 places, at
least the network's `min_withdrawal` and more than its `fee`), the destination (whitelist-only mode,
on by default and read through `security.selectors.whitelist_only_in_force`, so a switch-off counts
only after the address cooldown: a whitelisted address of this asset and network past its cooldown;
with the mode off, a typed address checked by the chain's checksum rules), an exchange key allowed to withdraw
(as the exchange reported it), then the fresh second factor (outside the transaction, so a wrong
code's count survives), then the prices the daily limit needs (before any lock, so a slow price
read never holds the user's row). Then, in one transaction, with the user's row locked (one request
at a time per user, so two requests cannot both fit under the daily limit; a cancel and a paper
reset take the same lock first) and the asset's balance row locked: the available balance, the
daily limit, the row, the paper ledger entry, the audit record and the critical security alert
(`security.withdrawal_requested`).

**Amounts.** `amount` is what leaves the account, the network fee included; the address receives
`amount - fee`. Exchanges are asked for exactly `amount` (Binance deducts its fee from it).

**The daily limit** is WITHDRAWAL_DAILY_LIMIT_USDT over any 24 hours, counting pending, sent and
completed withdrawals (not failed or cancelled ones; a sent one whose outcome is unknown counts until
the exchange answers), each valued at the current price (stablecoins 1:1). Exchange accounts share
one limit; the paper account has its own, so practising on paper never uses up the real one. Without
a current price the request is refused (`price_unavailable`, 503): a limit that cannot be computed
is not waved through. A malformed setting stops the process at start-up
(`cryptovault.settings.amount_setting_problem`), rather than answering every request with a 500.

**Paper accounts** are debited at once (a `withdrawal` ledger entry linked to the withdrawal);
a cancel credits the amount back (one more `withdrawal` entry, positive, note "cancelled"). Once the
hold ends the withdrawal completes with a txid marked `paper-…`: nothing moves on any chain.

**Exchange accounts** are not debited here: the money is the exchange's until it leaves. A pending
or submitted withdrawal holds its amount back from later requests (the available balance minus the
account's pending and submitted withdrawals of the asset) until the exchange confirms it completed
or failed. Once the hold ends, `withdrawal_process` claims the row with a conditional update
(pending -> submitted), so two workers never send it twice, and calls ccxt's `withdraw` with our
client id (`withdrawOrderId`). The exchange's id is stored and the account's balance of the asset
read again at once (the sync's `adjustment` entry records the debit, as for any balance the exchange
changes). That read is best effort: when it fails, a warning is logged (with the withdrawal's id)
and the next sync (ORDER_SYNC_SECONDS) corrects the balance; a call whose answer was lost reads
nothing. Either way the held-back amount covers the gap, so our copy of the balance never lets the
same funds out twice. While a withdrawal is submitted and the balance already shows the debit, it
is counted twice: the available amount is understated until the exchange confirms, never overstated.

`withdrawals_track` (every run of `trading.process_withdrawals`) follows submitted ones with
`fetch_withdrawals(code=asset, since=submitted - LISTING_MARGIN)` until the exchange answers
completed (the txid; the balance is read again) or failed/cancelled (the funds stay on the exchange
account; the balance is read again). Only such an answer finishes one. A call whose answer was lost
stays submitted without an id; tracking looks it up by our client id on every run. Absence from a
listing is not an answer (listings page and lag): the withdrawal stays submitted, held back and
counted in the daily limit. One still unconfirmed `UNCONFIRMED_AFTER` (24 hours) after it was sent
is flagged for an operator (an error logged once, and a note in `failure_reason` while it stays
submitted); tracking keeps looking for it.

**Cancelling** is possible while pending (the hold, WITHDRAWAL_HOLD_SECONDS, at least): the same
conditional update, pending -> cancelled, decides between a cancel and the processor.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

import ccxt  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.gates import require_sensitive_action
from accounts.models import User
from cryptovault.actor import Actor
from cryptovault.decimals import NOT_PLAIN, is_plain_decimal
from cryptovault.events import broadcast_on_commit, user_group
from security.addresses import networks as chains
from security.audit import audit_record
from security.ip_allowlist import protected_action
from trading.errors import AccountInactive
from trading.models import AccountKind, EntryKind, TradingAccount, Withdrawal, WithdrawalStatus
from trading.services.ledger import WIDE, lock_balances, money, plain_amount, post_entry
from trading.wallet_errors import (
    DailyLimitExceeded,
    PriceUnavailable,
    WithdrawalExceedsBalance,
    WithdrawalNotCancellable,
    WithdrawalNotPermitted,
)

logger = logging.getLogger(__name__)

AMOUNT_DECIMALS = 8  # what exchanges take for a withdrawal (Binance: 1e-8 steps)
MAX_AMOUNT = Decimal(10) ** 15
STABLECOINS = frozenset({"USDT", "USDC", "FDUSD", "TUSD", "DAI", "BUSD"})
# A sent withdrawal the exchange has not confirmed this long after sending is flagged for an operator.
UNCONFIRMED_AFTER = timedelta(hours=24)
UNCONFIRMED_NOTE = (
    "The exchange has not confirmed this withdrawal {hours} hours after it was sent; it stays counted until it "
    "does. An operator must check it on the exchange."
)
# How far before a withdrawal was sent the exchange's listing starts (clock drift between us and it).
LISTING_MARGIN = timedelta(hours=1)
COUNTED = (WithdrawalStatus.PENDING, WithdrawalStatus.SUBMITTED, WithdrawalStatus.COMPLETED)
KEY_CANNOT_WITHDRAW = WithdrawalNotPermitted.default_message


# --- reading amounts and prices ---------------------------------------------------------------------------
def parse_amount(value: Any, *, field: str = "amount") -> Decimal:
    """A plain positive decimal of at most 8 places; a ValidationError on `field` otherwise."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValidationError({field: ["Enter an amount."]})
    if isinstance(value, bool) or not is_plain_decimal(text):
        raise ValidationError({field: [NOT_PLAIN]})
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError({field: [NOT_PLAIN]}) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError({field: ["Enter an amount greater than 0."]})
    if number > MAX_AMOUNT:
        raise ValidationError({field: [f"Enter at most {MAX_AMOUNT:,f}."]})
    if -number.normalize().as_tuple().exponent > AMOUNT_DECIMALS:  # type: ignore[operator]
        raise ValidationError({field: [f"Use at most {AMOUNT_DECIMALS} decimal places."]})
    return number


def usdt_price(asset: str, *, purpose: str = "your daily withdrawal limit") -> Decimal:
    """The current price of one `asset` in USDT (stablecoins 1:1); PriceUnavailable without one."""
    from exchanges.errors import UnknownSymbol
    from exchanges.market.feed import MarketUnavailable
    from trading.prices import current_ticker

    if asset in STABLECOINS:
        return Decimal(1)
    try:
        return current_ticker(f"{asset}/USDT").last
    except (MarketUnavailable, UnknownSymbol):
        raise PriceUnavailable(asset, purpose=purpose) from None


def _usdt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,f}"


# --- requesting -------------------------------------------------------------------------------------------
@protected_action("withdrawal.request")
def withdrawal_request(
    *,
    actor: Actor,
    account: TradingAccount,
    asset: str,
    network: str,
    amount: Decimal | str,
    destination_id: int | None = None,
    address: str = "",
    memo: str = "",
    otp_code: str = "",
    challenge_id: str = "",
) -> Withdrawal:
    """Request a withdrawal from `account` (see the module); pending until its hold ends."""
    user = account.user
    if not account.is_active:
        raise AccountInactive()
    chain = chains.network(asset, network)
    value = parse_amount(amount)
    _check_network_amount(chain, value)
    now = timezone.now()
    destination, address, memo = _destination(
        user=user, chain=chain, destination_id=destination_id, address=address, memo=memo, at=now
    )
    if not account.is_paper and account.connection is not None and account.connection.key_can_withdraw is False:
        raise WithdrawalNotPermitted()
    require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)
    # Prices before the locks: a slow or missing price never holds the user's row.
    prices = _limit_prices(user=user, kind=account.kind, asset=chain.asset, now=now)
    with transaction.atomic():
        User.objects.select_for_update().only("pk").get(pk=user.pk)  # one request at a time per user
        balance = lock_balances(account, [chain.asset])[chain.asset]
        held_back = _held_back_on_exchange(account, chain.asset)
        with_pending = balance.available - held_back
        if value > with_pending:
            raise WithdrawalExceedsBalance(
                asset=chain.asset, required=plain_amount(value), available=plain_amount(max(with_pending, Decimal(0)))
            )
        _check_daily_limit(user=user, kind=account.kind, asset=chain.asset, amount=value, now=now, prices=prices)
        withdrawal = Withdrawal.objects.create(
            account=account,
            destination=destination,
            asset=chain.asset,
            network=chain.code,
            address=address,
            memo=memo,
            amount=money(value),
            fee=money(chain.fee),
            created_at=now,
            process_after=now + timedelta(seconds=settings.WITHDRAWAL_HOLD_SECONDS),
        )
        if account.is_paper:
            post_entry(
                balance=balance,
                kind=EntryKind.WITHDRAWAL,
                amount=-value,
                withdrawal=withdrawal,
                note=f"Withdrawal to {short_address(address)} on {chain.name}",
            )
        audit_record(
            "withdrawal.requested",
            actor=actor,
            user=user,
            withdrawal_id=withdrawal.pk,
            account_id=account.pk,
            asset=chain.asset,
            network=chain.code,
            amount=plain_amount(value),
            fee=plain_amount(chain.fee),
            address=address,
            destination_id=destination.pk if destination else None,
        )
        _tell(withdrawal, "security.withdrawal_requested", "withdrawal.requested")
    return withdrawal


def _check_network_amount(chain: chains.Network, value: Decimal) -> None:
    if value < chain.min_withdrawal:
        raise ValidationError(
            {
                "amount": [
                    f"The minimum withdrawal of {chain.asset} on {chain.name} is {plain_amount(chain.min_withdrawal)} "
                    f"{chain.asset}."
                ]
            }
        )
    if value <= chain.fee:
        raise ValidationError(
            {
                "amount": [
                    f"The amount must be more than the network fee of {plain_amount(chain.fee)} {chain.asset}: "
                    "the fee is taken from it."
                ]
            }
        )


def _destination(
    *, user: User, chain: chains.Network, destination_id: int | None, address: str, memo: str, at: datetime
) -> tuple[Any, str, str]:
    """(whitelist entry or None, address, memo) the withdrawal goes to; refusals name the field."""
    from security.selectors import (
        local_moment,
        usable_withdrawal_address,
        whitelist_only_in_force,
        whitelist_only_turns_off_at,
    )

    if destination_id is None:
        if whitelist_only_in_force(user, at):
            turns_off = whitelist_only_turns_off_at(user, at)
            state = (
                f"whitelist-only withdrawals stay on until {local_moment(turns_off, user)}"
                if turns_off is not None
                else "whitelist-only withdrawals are on"
            )
            raise ValidationError(
                {
                    "destination": [
                        f"Choose one of your whitelisted addresses: {state}. Add the "
                        "address on the withdrawal addresses page first (new addresses wait out a cooldown)."
                    ]
                }
            )
        from security.addresses import validate_address

        canonical = validate_address(asset=chain.asset, network=chain.code, address=address, memo=memo)
        return None, canonical, (memo or "").strip()
    try:
        pk = int(destination_id)
    except (TypeError, ValueError):
        raise ValidationError({"destination": ["Choose one of your whitelisted addresses."]}) from None
    entry = usable_withdrawal_address(user=user, pk=pk, at=at)
    if entry.asset != chain.asset or chains.normalise_code(entry.network) != chain.code:
        raise ValidationError(
            {
                "destination": [
                    f"“{entry.label}” is an address for {entry.asset} on {chains.chain_name(entry.network)}; "
                    f"choose one for {chain.asset} on {chain.name}."
                ]
            }
        )
    return entry, entry.address, entry.memo


HELD_BACK = (WithdrawalStatus.PENDING, WithdrawalStatus.SUBMITTED)


def _held_back_on_exchange(account: TradingAccount, asset: str) -> Decimal:
    """What an exchange account's withdrawals not yet confirmed by the exchange hold back (pending ones, and
    submitted ones until completed or failed there); paper ones are debited already."""
    if account.is_paper:
        return Decimal(0)
    open_ = Withdrawal.objects.filter(account=account, asset=asset, status__in=HELD_BACK)
    return open_.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def daily_limit() -> Decimal:
    return Decimal(str(settings.WITHDRAWAL_DAILY_LIMIT_USDT))


def withdrawn_today(*, user: User, kind: str, now: datetime | None = None) -> dict[str, Decimal]:
    """Amounts per asset counted against the daily limit of `user`'s accounts of `kind`: the last 24 hours."""
    since = (now or timezone.now()) - timedelta(hours=24)
    rows = (
        Withdrawal.objects.filter(account__user=user, account__kind=kind, status__in=COUNTED, created_at__gt=since)
        .order_by()
        .values("asset")
        .annotate(total=Sum("amount"))
    )
    return {row["asset"]: row["total"] or Decimal(0) for row in rows}


def _limit_prices(*, user: User, kind: str, asset: str, now: datetime) -> dict[str, Decimal]:
    """The USDT price of `asset` and of every asset the limit counts now, read before any lock is taken."""
    assets = {held for held, total in withdrawn_today(user=user, kind=kind, now=now).items() if total} | {asset}
    return {held: usdt_price(held) for held in sorted(assets)}


def _check_daily_limit(
    *, user: User, kind: str, asset: str, amount: Decimal, now: datetime, prices: dict[str, Decimal]
) -> None:
    """Under the user's lock: the counted amounts read again, valued at `prices` (an asset a withdrawal
    committed since the prices were read brings is priced here, the one read under the lock)."""
    totals: dict[str, Decimal] = defaultdict(Decimal, withdrawn_today(user=user, kind=kind, now=now))
    limit = daily_limit()

    def price(held: str) -> Decimal:
        return prices[held] if held in prices else usdt_price(held)

    with localcontext(WIDE):
        used = sum((total * price(held) for held, total in totals.items() if total), Decimal(0))
        requested = amount * price(asset)
    if used + requested > limit:
        raise DailyLimitExceeded(limit=_usdt(limit), used=_usdt(used), requested=_usdt(requested))


# --- cancelling -------------------------------------------------------------------------------------------
def cancel_pending_in_transaction(withdrawal: Withdrawal, *, note: str) -> Withdrawal | None:
    """Claim `withdrawal` as cancelled if it is still pending and credit a paper one back, inside the
    caller's transaction (the owner's cancel and a paper reset share it); None when it was not pending."""
    now = timezone.now()
    claimed = Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.PENDING).update(
        status=WithdrawalStatus.CANCELLED, finished_at=now, updated_at=now
    )
    if not claimed:
        return None
    current = Withdrawal.objects.select_related("account__user").get(pk=withdrawal.pk)
    if current.account.is_paper:
        balance = lock_balances(current.account, [current.asset])[current.asset]
        post_entry(balance=balance, kind=EntryKind.WITHDRAWAL, amount=current.amount, withdrawal=current, note=note)
    _tell(current, "wallet.withdrawal_cancelled", "withdrawal.cancelled")
    return current


@protected_action("withdrawal.cancel")
def withdrawal_cancel(*, actor: Actor, withdrawal: Withdrawal) -> Withdrawal:
    """Cancel a pending withdrawal; a paper one's amount is credited back. 409 once it is not pending."""
    with transaction.atomic():
        # The user's row first, as a request and a paper reset take it: no lock-order deadlock with either.
        User.objects.select_for_update().only("pk").get(pk=withdrawal.account.user_id)
        cancelled = cancel_pending_in_transaction(withdrawal, note=f"Withdrawal {withdrawal.pk} cancelled")
        if cancelled is None:
            current = Withdrawal.objects.get(pk=withdrawal.pk)
            raise WithdrawalNotCancellable(
                f"This withdrawal is {current.get_status_display().lower()}: only a pending withdrawal can be "
                "cancelled."
            )
        account = cancelled.account
        audit_record(
            "withdrawal.cancelled",
            actor=actor,
            user=account.user,
            withdrawal_id=cancelled.pk,
            account_id=account.pk,
            asset=cancelled.asset,
            amount=plain_amount(cancelled.amount),
        )
    return cancelled


# --- processing (Celery: trading.process_withdrawals) ----------------------------------------------------
def withdrawals_due(now: datetime | None = None) -> list[int]:
    """Ids of pending withdrawals whose hold has ended, oldest first."""
    moment = now or timezone.now()
    due = Withdrawal.objects.filter(status=WithdrawalStatus.PENDING, process_after__lte=moment)
    return list(due.order_by("process_after", "id").values_list("pk", flat=True))


def withdrawal_process(*, actor: Actor, withdrawal: Withdrawal) -> Withdrawal:
    """Complete a due paper withdrawal, or send a due exchange one; nothing when it is not ours to do."""
    now = timezone.now()
    account = TradingAccount.objects.select_related("connection", "user").get(pk=withdrawal.account_id)
    due = Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.PENDING, process_after__lte=now)
    if account.is_paper:
        with transaction.atomic():
            txid = f"paper-{uuid.uuid4().hex}"
            if due.update(
                status=WithdrawalStatus.COMPLETED, submitted_at=now, finished_at=now, txid=txid, updated_at=now
            ):
                done = Withdrawal.objects.select_related("account__user").get(pk=withdrawal.pk)
                _finished(actor, done, "withdrawal.completed")
        return Withdrawal.objects.get(pk=withdrawal.pk)
    if not due.update(status=WithdrawalStatus.SUBMITTED, submitted_at=now, updated_at=now):
        return Withdrawal.objects.get(pk=withdrawal.pk)  # cancelled, or another worker has it
    claimed = Withdrawal.objects.select_related("account__user").get(pk=withdrawal.pk)
    claimed.account = account
    _send(actor, claimed)
    return Withdrawal.objects.get(pk=withdrawal.pk)


def client_id(withdrawal: Withdrawal) -> str:
    """Our id for the withdrawal at the exchange (Binance's `withdrawOrderId`), to find a lost answer."""
    return f"cvw{withdrawal.pk}"


def _send(actor: Actor, withdrawal: Withdrawal) -> None:
    from trading.services.live import KeysUnreadable, exchange_session

    account = withdrawal.account
    connection = account.connection
    if not account.is_active or connection is None:
        _fail(actor, withdrawal, "The exchange account was closed (its connection revoked) before it was sent.")
        return
    if connection.key_can_withdraw is False:
        _fail(actor, withdrawal, KEY_CANNOT_WITHDRAW)
        return
    chain = chains.NETWORKS.get(f"{withdrawal.asset}/{withdrawal.network}")
    params: dict[str, Any] = {
        "network": chain.ccxt_network if chain else withdrawal.network,
        "withdrawOrderId": client_id(withdrawal),
    }
    if withdrawal.memo:
        params["tag"] = withdrawal.memo
    try:
        with exchange_session(account) as (spec, client):
            try:
                remote = client.withdraw(withdrawal.asset, plain_amount(withdrawal.amount), withdrawal.address, params)
            except Exception as error:  # every failure is a refusal or an unknown outcome, never a 500
                known, reason = withdrawal_refusal(error)
                logger.info(
                    "exchange withdrawal failed",
                    extra={"exchange": spec.id, "error": type(error).__name__, "withdrawal_id": withdrawal.pk},
                )
                if known:
                    _fail(actor, withdrawal, reason)
                return  # unknown: stays submitted; tracking asks the exchange by our client id
            exchange_id = str(remote.get("id") or "")
            Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.SUBMITTED).update(
                exchange_withdrawal_id=exchange_id[:128], updated_at=timezone.now()
            )
            audit_record(
                "withdrawal.submitted",
                actor=actor,
                user=account.user,
                withdrawal_id=withdrawal.pk,
                exchange=spec.id,
                exchange_withdrawal_id=exchange_id,
            )
            _refresh_balance(client, spec, account, withdrawal.asset, withdrawal_id=withdrawal.pk)
    except KeysUnreadable:
        _fail(actor, withdrawal, "The connection's keys cannot be read; enter them again. Nothing was sent.")


# ccxt raises these for refusals the exchange gave before moving anything (Binance codes first).
_REFUSALS: dict[str, str] = {
    "-1002": KEY_CANNOT_WITHDRAW,
    "-2015": KEY_CANNOT_WITHDRAW,
    "-4026": "The exchange refused: the exchange account's balance is insufficient.",
    "-4024": "The exchange refused: the exchange account does not hold this asset.",
    "-4025": "The exchange refused: the exchange account's balance is insufficient.",
    "-4022": "The exchange refused: the amount is below its minimum withdrawal for this network.",
    "-4028": "The exchange refused: the amount is not more than its fee for this network.",
    "-4018": "The exchange does not offer this asset.",
    "-4019": "The exchange does not allow withdrawals of this asset on this network now.",
    "-4033": "The exchange refused the address as invalid.",
    "-4035": "The exchange refused: the address is not on the key's withdrawal whitelist at the exchange.",
    "-4036": "The exchange refused: the address was added to its whitelist too recently.",
    "-4015": "The exchange refused: withdrawals are limited on this exchange account.",
    "-4023": "The exchange refused: its own 24-hour withdrawal limit would be exceeded.",
}


def withdrawal_refusal(error: Exception) -> tuple[bool, str]:
    """(known, reason): whether the exchange surely did not take the withdrawal, and why, in our words."""
    match = re.search(r'"code"\s*:\s*"?(-?\d+)"?', str(error))
    code = match.group(1) if match else ""
    if code in _REFUSALS:
        return True, _REFUSALS[code]
    if isinstance(error, (ccxt.PermissionDenied, ccxt.AuthenticationError)):
        return True, KEY_CANNOT_WITHDRAW
    if isinstance(error, ccxt.InsufficientFunds):
        return True, _REFUSALS["-4026"]
    if isinstance(error, (ccxt.RateLimitExceeded, ccxt.OnMaintenance)):
        return True, "The exchange was rate-limiting or in maintenance; nothing was sent. Request it again later."
    if isinstance(error, (ccxt.NetworkError, ccxt.ExchangeNotAvailable)) or not isinstance(error, ccxt.BaseError):
        return False, "No answer from the exchange; we ask it whether the withdrawal arrived."
    return True, f"The exchange refused the withdrawal{f' (code {code})' if code else ''}."


def _refresh_balance(client: Any, spec: Any, account: TradingAccount, asset: str, *, withdrawal_id: int) -> None:
    """The exchange changed the account's balance: read it now rather than at the next sync (best effort:
    a failure is logged, the next sync corrects it, and the held-back amount covers it meanwhile)."""
    from trading.services.live import sync_balances

    try:
        sync_balances(account, client.fetch_balance(), spec=spec, only={asset})
    except Exception as error:
        logger.warning(
            "balance read after a withdrawal failed; the next sync corrects it",
            extra={
                "exchange": spec.id,
                "error": type(error).__name__,
                "account_id": account.pk,
                "asset": asset,
                "withdrawal_id": withdrawal_id,
            },
        )


def _fail(actor: Actor, withdrawal: Withdrawal, reason: str) -> bool:
    """Submitted -> failed, once; nothing to give back here (see the module)."""
    now = timezone.now()
    with transaction.atomic():
        if not Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.SUBMITTED).update(
            status=WithdrawalStatus.FAILED, failure_reason=reason[:300], finished_at=now, updated_at=now
        ):
            return False
        failed = Withdrawal.objects.select_related("account__user").get(pk=withdrawal.pk)
        _finished(actor, failed, "withdrawal.failed", reason=reason)
    return True


def _finished(actor: Actor, withdrawal: Withdrawal, action: str, **details: Any) -> None:
    audit_record(
        action,
        actor=actor,
        user=withdrawal.account.user,
        outcome="failure" if action == "withdrawal.failed" else "success",
        withdrawal_id=withdrawal.pk,
        account_id=withdrawal.account_id,
        asset=withdrawal.asset,
        amount=plain_amount(withdrawal.amount),
        txid=withdrawal.txid,
        **details,
    )
    event = "wallet.withdrawal_completed" if action == "withdrawal.completed" else "wallet.withdrawal_failed"
    _tell(withdrawal, event, action)


# --- tracking ---------------------------------------------------------------------------------------------
def withdrawals_track(*, actor: Actor) -> int:
    """Follow every submitted exchange withdrawal on its exchange; how many finished."""
    submitted = Withdrawal.objects.filter(status=WithdrawalStatus.SUBMITTED, account__kind=AccountKind.EXCHANGE)
    finished = 0
    for account_id in sorted(set(submitted.values_list("account_id", flat=True))):
        account = TradingAccount.objects.select_related("connection", "user").get(pk=account_id)
        try:
            finished += withdrawals_track_account(actor=actor, account=account)
        except Exception:  # one account that cannot be followed does not stop the others; the next run retries
            logger.exception("withdrawals of trading account %s could not be followed", account_id)
    return finished


def withdrawals_track_account(*, actor: Actor, account: TradingAccount) -> int:
    """Ask the exchange about `account`'s submitted withdrawals (one listing per asset); how many finished."""
    from trading.services.live import KeysUnreadable, exchange_session

    mine = list(Withdrawal.objects.filter(account=account, status=WithdrawalStatus.SUBMITTED).order_by("id"))
    if not mine:
        return 0
    by_asset: dict[str, list[Withdrawal]] = defaultdict(list)
    for withdrawal in mine:
        withdrawal.account = account
        by_asset[withdrawal.asset].append(withdrawal)
    finished = 0
    try:
        with exchange_session(account) as (spec, client):
            for asset, rows in sorted(by_asset.items()):
                remote = _listing(client, spec, account, asset, rows)
                if remote is None:
                    continue  # no answer: nothing learnt, the next run asks again
                by_id = {str(row.get("id")): row for row in remote}
                by_client = {str((row.get("info") or {}).get("withdrawOrderId") or ""): row for row in remote}
                answered = 0
                for withdrawal in rows:
                    row = by_id.get(withdrawal.exchange_withdrawal_id) if withdrawal.exchange_withdrawal_id else None
                    row = row or by_client.get(client_id(withdrawal))
                    if row is None:
                        _flag_if_unconfirmed(withdrawal)
                        continue
                    answered += _follow(actor, withdrawal, row)
                if answered:
                    _refresh_balance(client, spec, account, asset, withdrawal_id=rows[0].pk)
                finished += answered
    except KeysUnreadable:
        return finished
    return finished


def _listing(client: Any, spec: Any, account: TradingAccount, asset: str, rows: list[Withdrawal]) -> list | None:
    """The exchange's withdrawals of `asset` since just before the earliest of `rows` was sent; None without."""
    earliest = min(row.submitted_at or row.created_at for row in rows)
    since = int((earliest - LISTING_MARGIN).timestamp() * 1000)
    try:
        client.load_markets()
        code = asset if asset in (client.currencies or {}) else None
        remote = client.fetch_withdrawals(code, since)
    except Exception as error:
        logger.warning(
            "exchange withdrawals read failed",
            extra={"exchange": spec.id, "error": type(error).__name__, "account_id": account.pk, "asset": asset},
        )
        return None
    return [row for row in remote if not row.get("currency") or row.get("currency") == asset]


def _flag_if_unconfirmed(withdrawal: Withdrawal) -> None:
    """Not in the exchange's listing: no answer. Once UNCONFIRMED_AFTER has passed since it was sent, note it
    for an operator (once: the note is written on a blank `failure_reason` only); it stays submitted."""
    sent = withdrawal.submitted_at or withdrawal.created_at
    if timezone.now() - sent < UNCONFIRMED_AFTER:
        return
    note = UNCONFIRMED_NOTE.format(hours=int(UNCONFIRMED_AFTER.total_seconds() // 3600))
    if Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.SUBMITTED, failure_reason="").update(
        failure_reason=note[:300], updated_at=timezone.now()
    ):
        logger.error(
            "exchange withdrawal unconfirmed: an operator must check it on the exchange",
            extra={
                "withdrawal_id": withdrawal.pk,
                "account_id": withdrawal.account_id,
                "asset": withdrawal.asset,
                "exchange_withdrawal_id": withdrawal.exchange_withdrawal_id,
            },
        )


def _follow(actor: Actor, withdrawal: Withdrawal, row: dict) -> int:
    """The exchange's answer about `withdrawal`: completed, failed/cancelled, or still under way there."""
    exchange_id = str(row.get("id") or "")
    if exchange_id and not withdrawal.exchange_withdrawal_id:
        Withdrawal.objects.filter(pk=withdrawal.pk).update(exchange_withdrawal_id=exchange_id[:128])
    status = row.get("status")
    if status == "ok":
        now = timezone.now()
        with transaction.atomic():
            if not Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.SUBMITTED).update(
                status=WithdrawalStatus.COMPLETED,
                txid=str(row.get("txid") or "")[:128],
                failure_reason="",
                finished_at=now,
                updated_at=now,
            ):
                return 0
            done = Withdrawal.objects.select_related("account__user").get(pk=withdrawal.pk)
            _finished(actor, done, "withdrawal.completed")
        return 1
    if status in ("failed", "canceled", "cancelled"):
        word = "failed" if status == "failed" else "was cancelled"
        reason = f"The exchange reports that the withdrawal {word}; the funds stay on the exchange account."
        return 1 if _fail(actor, withdrawal, reason) else 0
    return 0


# --- events -----------------------------------------------------------------------------------------------
def short_address(address: str) -> str:
    return address if len(address) <= 16 else f"{address[:8]}…{address[-6:]}"


def withdrawal_payload(withdrawal: Withdrawal) -> dict[str, Any]:
    return {
        "id": withdrawal.pk,
        "account_id": withdrawal.account_id,
        "asset": withdrawal.asset,
        "network": withdrawal.network,
        "amount": plain_amount(withdrawal.amount),
        "fee": plain_amount(withdrawal.fee),
        "address": withdrawal.address,
        "status": withdrawal.status,
    }


def _tell(withdrawal: Withdrawal, event: str, socket_event: str) -> None:
    """The owner's notification (`event`) and their open pages (`socket_event`), after commit."""
    from accounts.notify import notify

    user = withdrawal.account.user
    context = {
        "amount": plain_amount(withdrawal.amount),
        "asset": withdrawal.asset,
        "network": chains.chain_name(withdrawal.network),
        "address": withdrawal.address,
        "reason": withdrawal.failure_reason,
    }
    notify(user=user, event=event, context=context)
    broadcast_on_commit(user_group(user.pk), socket_event, withdrawal_payload(withdrawal))
