"""Reads of the wallet (withdrawals, what a withdrawal form shows), every one behind the read gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from security.addresses import networks as chains
from trading.models import Balance, TradingAccount, Withdrawal


def withdrawals_for(user: Any) -> QuerySet[Withdrawal]:
    """`user`'s withdrawals, newest first, with what the lists show."""
    return Withdrawal.objects.visible_to(user).select_related("account", "destination")


def withdrawal_for(user: Any, pk: int) -> Withdrawal:
    """One of `user`'s withdrawals (Withdrawal.DoesNotExist for anyone else's)."""
    return withdrawals_for(user).get(pk=pk)


def wallet_accounts(user: Any) -> list[TradingAccount]:
    """`user`'s active accounts with their non-zero balances prefetched (the wallet's balance cards)."""
    from django.db.models import Prefetch

    balances = Prefetch("balances", queryset=Balance.objects.nonzero().order_by("asset"), to_attr="wallet_balances")
    return list(
        TradingAccount.objects.visible_to(user).active().select_related("connection").prefetch_related(balances)
    )


@dataclass(frozen=True)
class AddressChoice:
    """A whitelisted address as the withdrawal form offers it, with its cooldown state."""

    pk: int
    label: str
    asset: str
    network: str
    address: str
    usable_from: datetime
    usable: bool

    @property
    def text(self) -> str:
        state = "" if self.usable else f" (cooling down until {self.usable_from:%Y-%m-%d %H:%M} UTC)"
        short = self.address if len(self.address) <= 18 else f"{self.address[:10]}…{self.address[-6:]}"
        return f"{self.label}: {self.asset} on {chains.chain_name(self.network)}, {short}{state}"


def address_choices(user: Any, now: datetime | None = None) -> list[AddressChoice]:
    from security.selectors import withdrawal_addresses_for

    moment = now or timezone.now()
    return [
        AddressChoice(
            pk=entry.pk,
            label=entry.label,
            asset=entry.asset,
            network=entry.network,
            address=entry.address,
            usable_from=entry.usable_from,
            usable=entry.usable_from <= moment,
        )
        for entry in withdrawal_addresses_for(user=user)
    ]


@dataclass(frozen=True)
class NetworkFigures:
    asset: str
    network: str
    name: str
    fee: Decimal
    min_withdrawal: Decimal


def network_figures() -> list[NetworkFigures]:
    """Every asset/network with its fee and minimum, as the form shows them."""
    return [
        NetworkFigures(row.asset, row.code, row.name, row.fee, row.min_withdrawal) for row in chains.NETWORKS.values()
    ]
