"""/wallet/: balances per account, withdrawals (request, list, cancel while pending) and deposits
(a simulated deposit into the paper account, an exchange account's deposit address with a copy button).

Every write is one service call (`trading.services.withdrawals`, `trading.services.deposits`) through
`cryptovault.pages.submit`, so bad input, a refused second factor, a cooling-down address, the balance
and the daily limit come back as form errors on the page, never a 500. The withdrawal list shares its
FilterSet with the API (`trading.filters.WithdrawalFilterSet`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.gates import second_factor_errors_on_code_field
from cryptovault.errors import DomainError
from cryptovault.pages import add_domain_error, add_validation_error, filters_applied, page_actor, submit
from security.addresses.networks import ASSETS, NETWORKS
from security.selectors import whitelist_only_in_force
from trading.filters import WithdrawalFilterSet
from trading.models import AccountKind, TradingAccount, Withdrawal
from trading.services.deposits import deposit_address, paper_deposit, paper_deposit_limit
from trading.services.ledger import plain_amount
from trading.services.withdrawals import daily_limit, withdrawal_cancel, withdrawal_request
from trading.wallet_selectors import address_choices, wallet_accounts, withdrawal_for, withdrawals_for

LIST_SIZE = 50
CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "off", "spellcheck": "false"}


def _network_choices() -> list[tuple[str, str]]:
    return [
        (
            key,
            f"{row.asset} on {row.name}: fee {plain_amount(row.fee)} {row.asset}, "
            f"minimum {plain_amount(row.min_withdrawal)} {row.asset}",
        )
        for key, row in NETWORKS.items()
    ]


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: TradingAccount) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


class WithdrawForm(forms.Form):
    account = AccountChoiceField(queryset=TradingAccount.objects.none(), empty_label=None)
    network = forms.ChoiceField(
        label="Asset and network",
        help_text="The network fee is taken from the amount; the address receives the rest.",
    )
    destination = forms.TypedChoiceField(
        label="To", coerce=int, required=False, empty_value=None, help_text="One of your whitelisted addresses."
    )
    address = forms.CharField(
        label="Or an address",
        max_length=128,
        required=False,
        help_text="Only while whitelist-only withdrawals are off.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    memo = forms.CharField(label="Memo or destination tag", max_length=64, required=False)
    amount = forms.CharField(
        max_length=64,
        help_text="What leaves the account, the fee included.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    otp_code = forms.CharField(
        label="Two-factor code",
        max_length=20,
        required=False,
        help_text="From your authenticator app or text message, or a recovery code.",
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "withdraw_%s")  # one page, several forms: ids stay unique
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = TradingAccount.objects.visible_to(user).active()
        self.fields["network"].choices = [("", "Choose…"), *_network_choices()]
        self.address_choices = address_choices(user)
        self.fields["destination"].choices = [("", "Choose…"), *((c.pk, c.text) for c in self.address_choices)]
        self.whitelist_only = whitelist_only_in_force(user, timezone.now())  # a switch-off waits out the cooldown
        if self.whitelist_only:
            for name in ("address", "memo"):
                del self.fields[name]


class PaperDepositForm(forms.Form):
    asset = forms.ChoiceField(choices=[(asset, asset) for asset in ASSETS])
    amount = forms.CharField(max_length=64, widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "deposit_%s")
        super().__init__(*args, **kwargs)


class DepositAddressForm(forms.Form):
    account = AccountChoiceField(queryset=TradingAccount.objects.none(), empty_label=None)
    network = forms.ChoiceField(label="Asset and network")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "deposit_address_%s")
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = (
            TradingAccount.objects.visible_to(user).active().filter(kind=AccountKind.EXCHANGE)
        )
        self.fields["network"].choices = [
            ("", "Choose…"),
            *((key, f"{row.asset} on {row.name}") for key, row in NETWORKS.items()),
        ]


def _split(key: str) -> tuple[str, str]:
    asset, _, network = (key or "").partition("/")
    return asset, network


def _page(
    request: HttpRequest,
    *,
    withdraw_form: WithdrawForm | None = None,
    deposit_form: PaperDepositForm | None = None,
    address_form: DepositAddressForm | None = None,
    deposit: Any = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    accounts = wallet_accounts(user)
    filterset = WithdrawalFilterSet(request.GET, queryset=withdrawals_for(user), request=request)
    withdrawals = list(filterset.qs[:LIST_SIZE]) if filterset.is_valid() else []
    context = {
        "accounts": accounts,
        "paper": next((account for account in accounts if account.is_paper), None),
        "withdraw_form": withdraw_form or WithdrawForm(user=user),
        "deposit_form": deposit_form or PaperDepositForm(),
        "address_form": address_form or DepositAddressForm(user=user),
        "deposit": deposit,
        "filter": filterset,
        "filtered": filters_applied(filterset),
        "withdrawals": withdrawals,
        "daily_limit": daily_limit(),
        "deposit_limit": paper_deposit_limit(),
    }
    return render(request, "trading/wallet.html", context, status=status)


@login_required
@require_GET
def wallet_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def withdraw_view(request: HttpRequest) -> HttpResponse:
    form = WithdrawForm(request.POST, user=request.user)

    def request_withdrawal(data: dict) -> Withdrawal:
        asset, network = _split(data["network"])
        return withdrawal_request(
            actor=page_actor(request),
            account=data["account"],
            asset=asset,
            network=network,
            amount=data["amount"],
            destination_id=data.get("destination"),
            address=data.get("address", ""),
            memo=data.get("memo", ""),
            otp_code=data.get("otp_code", ""),
        )

    done = submit(request, form, second_factor_errors_on_code_field(request_withdrawal))
    if done.done:
        withdrawal = done.result
        messages.success(
            request,
            f"Withdrawal of {plain_amount(withdrawal.amount)} {withdrawal.asset} requested. It can be cancelled "
            f"until {withdrawal.process_after:%H:%M} UTC, then it is sent.",
        )
        return redirect("wallet:wallet")
    return _page(request, withdraw_form=form)


@login_required
@require_POST
def paper_deposit_view(request: HttpRequest) -> HttpResponse:
    form = PaperDepositForm(request.POST)
    paper = TradingAccount.objects.visible_to(request.user).paper().first()

    def deposit(data: dict) -> Any:
        if paper is None:
            raise forms.ValidationError("You have no paper account yet: verify your email address first.")
        return paper_deposit(actor=page_actor(request), account=paper, asset=data["asset"], amount=data["amount"])

    done = submit(request, form, deposit)
    if done.done:
        entry = done.result
        messages.success(request, f"{plain_amount(entry.amount)} {entry.asset} of virtual money deposited.")
        return redirect("wallet:wallet")
    return _page(request, deposit_form=form)


@login_required
@require_GET
def deposit_address_view(request: HttpRequest) -> HttpResponse:
    form = DepositAddressForm(request.GET, user=request.user)

    def ask(data: dict) -> Any:
        asset, network = _split(data["network"])
        return deposit_address(actor=page_actor(request), account=data["account"], asset=asset, network=network)

    # A read through a service: submit() runs only on POST, so the form is checked and called here alike.
    answer = None
    if form.is_valid():
        try:
            answer = ask(form.cleaned_data)
        except PermissionDenied:  # the IP allowlist's refusal: the 403 page, as submit() does
            raise
        except DomainError as exc:
            add_domain_error(form, exc)
        except ValidationError as exc:
            add_validation_error(form, exc)
    return _page(request, address_form=form, deposit=answer)


def owned_withdrawal(request: HttpRequest, pk: int) -> Withdrawal:
    try:
        return withdrawal_for(request.user, pk)
    except Withdrawal.DoesNotExist:
        raise Http404("No such withdrawal.") from None


@login_required
@require_http_methods(["GET", "POST"])
def withdrawal_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST cancels (one sent meanwhile says so on the page)."""
    withdrawal = owned_withdrawal(request, pk)
    holder = forms.Form(request.POST if request.method == "POST" else None)
    cancelled = submit(
        request, holder, lambda _data: withdrawal_cancel(actor=page_actor(request), withdrawal=withdrawal)
    )
    if cancelled.done:
        messages.success(request, f"Withdrawal of {plain_amount(withdrawal.amount)} {withdrawal.asset} cancelled.")
        return redirect("wallet:wallet")
    if request.method == "POST":
        withdrawal.refresh_from_db()
    return render(request, "trading/wallet_cancel.html", {"form": holder, "withdrawal": withdrawal})
