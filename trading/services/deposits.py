"""Deposits: where to send money to an exchange account, and simulated deposits into the paper account.

- `deposit_address` asks the exchange, through ccxt's `fetch_deposit_address` with the network's
  ccxt code, for the account's own address (and memo or tag, where the chain has one). Nothing is
  stored: the exchange's answer is the truth, and the money arrives there, where the next sync reads
  it as an `adjustment` entry, like any balance the exchange changes.
- `paper_deposit` credits virtual money to the paper account (a `deposit` ledger entry), at most
  PAPER_DEPOSIT_MAX_USDT per deposit, valued at the current price; units other than USDT cost
  their market value on arrival (the account's average cost moves, as an exchange deposit's would).

Both are protected actions (the IP allowlist); neither asks for a second factor, since no money
leaves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, localcontext

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from cryptovault.actor import Actor
from cryptovault.events import broadcast_on_commit, user_group
from security.addresses import networks as chains
from security.audit import audit_record
from security.ip_allowlist import protected_action
from trading.errors import AccountInactive
from trading.models import EntryKind, LedgerEntry, TradingAccount
from trading.models.accounts import QUOTE_CURRENCY
from trading.services.ledger import WIDE, lock_balances, plain_amount, post_entry
from trading.services.withdrawals import parse_amount, usdt_price, withdrawal_refusal
from trading.wallet_errors import DepositAddressUnavailable, NoDepositAddress, NotAPaperAccountForDeposit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DepositAddress:
    asset: str
    network: str
    network_name: str
    address: str
    memo: str
    memo_name: str
    exchange: str


@protected_action("deposit.address")
def deposit_address(*, actor: Actor, account: TradingAccount, asset: str, network: str) -> DepositAddress:
    """The exchange account's deposit address for `asset` on `network`, as the exchange gives it."""
    from trading.services.live import KeysUnreadable, exchange_session

    if account.is_paper:
        raise NoDepositAddress()
    if not account.is_active:
        raise AccountInactive()
    chain = chains.network(asset, network)
    try:
        with exchange_session(account) as (spec, client):
            try:
                answer = client.fetch_deposit_address(chain.asset, {"network": chain.ccxt_network})
            except Exception as error:  # never a 500: the exchange could not answer now
                _known, reason = withdrawal_refusal(error)
                logger.info("deposit address read failed", extra={"exchange": spec.id, "error": type(error).__name__})
                raise DepositAddressUnavailable(
                    f"{spec.name} did not give a deposit address for {chain} now. {_deposit_words(reason)}",
                    reason=type(error).__name__,
                ) from None
    except KeysUnreadable:
        raise DepositAddressUnavailable(
            "The connection's keys cannot be read (the encryption key that sealed them is gone). Enter them again.",
            reason="keys_unreadable",
        ) from None
    address = str(answer.get("address") or "")
    if not address:
        raise DepositAddressUnavailable(
            f"{spec.name} has no deposit address for {chain} on this account.", reason="no_address"
        )
    audit_record(
        "deposit_address.viewed",
        actor=actor,
        user=account.user,
        account_id=account.pk,
        asset=chain.asset,
        network=chain.code,
    )
    return DepositAddress(
        asset=chain.asset,
        network=chain.code,
        network_name=chain.name,
        address=address,
        memo=str(answer.get("tag") or ""),
        memo_name=chain.memo_name,
        exchange=spec.name,
    )


def _deposit_words(reason: str) -> str:
    """A withdrawal refusal's words, turned for a deposit address (the key, the network, the exchange)."""
    if "not allowed to withdraw" in reason:
        return "The exchange refused the API key for this request."
    return reason.replace("withdrawal", "request").replace("Request it again later", "Try again later")


def paper_deposit_limit() -> Decimal:
    return Decimal(str(settings.PAPER_DEPOSIT_MAX_USDT))


@protected_action("deposit.paper")
def paper_deposit(*, actor: Actor, account: TradingAccount, asset: str, amount: Decimal | str) -> LedgerEntry:
    """Credit a simulated deposit of `amount` `asset` to the paper account (a `deposit` ledger entry)."""
    from trading.services.engine import cost_basis_on_deposit

    if not account.is_paper:
        raise NotAPaperAccountForDeposit()
    if not account.is_active:
        raise AccountInactive("This paper account is closed: it takes no deposit.")
    wanted = (asset or "").strip().upper()
    if wanted not in chains.ASSETS:
        raise ValidationError({"asset": [f"Choose one of: {', '.join(chains.ASSETS)}."]})
    value = parse_amount(amount)
    price = usdt_price(wanted, purpose="the simulated deposit's limit")
    limit = paper_deposit_limit()
    with localcontext(WIDE):
        worth = value * price
    if worth > limit:
        raise ValidationError(
            {
                "amount": [
                    f"A simulated deposit is at most {limit:,f} USDT worth; {plain_amount(value)} {wanted} is about "
                    f"{worth.quantize(Decimal('0.01')):,f} USDT."
                ]
            }
        )
    from accounts.notify import notify

    with transaction.atomic():
        balance = lock_balances(account, [wanted])[wanted]
        if wanted != QUOTE_CURRENCY:
            cost_basis_on_deposit(balance, value, price)
        entry = post_entry(
            balance=balance, kind=EntryKind.DEPOSIT, amount=value, note="Simulated deposit (virtual money)"
        )
        audit_record(
            "deposit.simulated",
            actor=actor,
            user=account.user,
            account_id=account.pk,
            asset=wanted,
            amount=plain_amount(value),
        )
        notify(
            user=account.user,
            event="wallet.deposit_received",
            context={"amount": plain_amount(value), "asset": wanted, "account": account.name},
        )
        broadcast_on_commit(
            user_group(account.user_id),
            "deposit.received",
            {"account_id": account.pk, "asset": wanted, "amount": plain_amount(value)},
        )
    return entry
