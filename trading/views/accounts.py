"""The trading accounts page (/trading-accounts/): each account with its balances (total, reserved by
open orders, available), and the paper account's reset after a confirmation.

Balances are one query for every account (`balances_for`), grouped here; an exchange account says when
its balances were last synced and why a sync failed. Another user's account is not found (404).
"""

from __future__ import annotations

from itertools import groupby

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cryptovault.pages import page_actor, submit
from trading.models import TradingAccount
from trading.selectors import account_for, accounts_for, balances_for
from trading.services.accounts import paper_account_reset


@login_required
@require_GET
def accounts_page(request: HttpRequest) -> HttpResponse:
    accounts = list(accounts_for(request.user))
    held = balances_for(request.user).exclude(total=0, locked=0)
    by_account = {pk: list(rows) for pk, rows in groupby(held, key=lambda balance: balance.account_id)}
    rows = [(account, by_account.get(account.pk, [])) for account in accounts]
    context = {"rows": rows, "starting_balance": settings.PAPER_STARTING_BALANCE}
    return render(request, "trading/accounts.html", context)


def owned_paper_account(request: HttpRequest, pk: int) -> TradingAccount:
    """Only a paper account resets: another user's account, or an exchange account, is not found here."""
    try:
        account = account_for(request.user, pk)
    except TradingAccount.DoesNotExist:
        raise Http404("No such account.") from None
    if not account.is_paper:
        raise Http404("Only a paper account can be reset.")
    return account


@login_required
@require_http_methods(["GET", "POST"])
def paper_reset_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (what is lost: orders, holdings, history of PnL); POST resets."""
    account = owned_paper_account(request, pk)
    holder = forms.Form(request.POST if request.method == "POST" else None)
    reset = submit(request, holder, lambda _data: paper_account_reset(actor=page_actor(request), account=account))
    if reset.done:
        messages.success(
            request,
            f"{account.name} is back to {settings.PAPER_STARTING_BALANCE} USDT; its open orders were cancelled.",
        )
        return redirect("trading:accounts")
    open_orders = account.orders.open().count()
    context = {
        "form": holder,
        "account": account,
        "open_orders": open_orders,
        "starting_balance": settings.PAPER_STARTING_BALANCE,
    }
    return render(request, "trading/paper_reset.html", context)
