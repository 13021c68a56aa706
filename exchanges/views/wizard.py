"""The connect wizard: 1 choose the exchange → 2 the keys → 3 the test → 4 review and save.

Each step is its own server-rendered page. Steps 1 and 2 are one GET page (`?exchange=` picks
step 2, so a guide can link straight to it); the test, review and save are POSTs. The typed keys
travel from step 3 on only sealed in the page (`exchanges.views.carry`), never in the session.
The test and the save call the exchange, so both count against the `connection_test` rate limit.
Every rule (what a key may look like, the second factor, the test that must pass unless
overridden) is the services'; these views only carry values between steps and show answers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cryptovault.pages import page_actor, submit
from cryptovault.ratelimits import rate_limited
from exchanges.catalogue import ExchangeSpec, catalogue, exchange_spec
from exchanges.errors import ConnectionTestFailed, UnknownExchange
from exchanges.forms import CredentialsForm, ExchangeChoiceForm, ReviewForm, add_override_field
from exchanges.guides import code_help
from exchanges.models import Feature
from exchanges.services.keys import connection_create, connection_test
from exchanges.views.carry import WIZARD_STATE_TTL_SECONDS, WizardState, claim, release
from exchanges.views.common import asks_for_code, flash_key_warnings, posted, sensitive_get

STEPS = ("Exchange", "Keys", "Test", "Review")
EXPIRED = (
    f"The connect wizard expired (it keeps typed keys for {WIZARD_STATE_TTL_SECONDS // 60} minutes at most) "
    "or was opened in another account. Enter the keys again."
)


def _spec_or_none(exchange_id: str | None) -> ExchangeSpec | None:
    try:
        return exchange_spec(exchange_id or "")
    except UnknownExchange:
        return None


def _render(request: HttpRequest, template: str, step: int, **context) -> HttpResponse:
    context.update(steps=STEPS, step=step)
    return render(request, f"exchanges/{template}", context)


def _choose(request: HttpRequest, form: ExchangeChoiceForm) -> HttpResponse:
    return _render(request, "connect_choose.html", 1, form=form, specs=catalogue())


def _credentials(request: HttpRequest, form: CredentialsForm) -> HttpResponse:
    return _render(request, "connect_keys.html", 2, form=form, spec=form.spec)


def _back_to_keys_url(state: WizardState) -> str:
    """Step 2 again with what is not secret filled in; the keys are typed again."""
    # `features=` with no value says "none chosen": urlencode would drop an empty list, and step 2
    # would then offer the defaults again.
    query = {"exchange": state.exchange, "nickname": state.nickname, "features": state.features or [""]}
    if state.sandbox:
        query["sandbox"] = "1"
    return f"{reverse('exchanges:connect')}?{urlencode(query, doseq=True)}"


def _feature_labels(state: WizardState) -> list[str]:
    labels = dict(Feature.choices)
    return [labels.get(feature, feature) for feature in state.features]


def _summary(request: HttpRequest, state: WizardState) -> dict:
    result = state.result or {}
    return {
        "spec": exchange_spec(state.exchange),
        "state": state,
        "token": state.seal(request.user),
        "result": result,
        "help": code_help(state.exchange, result.get("code", "")) if result else None,
        "features": _feature_labels(state),
        "back_url": _back_to_keys_url(state),
    }


def _expired(request: HttpRequest) -> HttpResponse:
    messages.error(request, EXPIRED)
    return redirect("exchanges:connect")


@login_required
@never_cache
@require_GET
@sensitive_get
def connect(request: HttpRequest) -> HttpResponse:
    """Step 1 (no exchange asked for, or one we do not support), else step 2."""
    if "exchange" not in request.GET:
        return _choose(request, ExchangeChoiceForm())
    choice = ExchangeChoiceForm(request.GET)
    if not choice.is_valid():
        return _choose(request, choice)
    spec = exchange_spec(choice.cleaned_data["exchange"])
    initial = {"sandbox": request.GET.get("sandbox") == "1"}
    if nickname := request.GET.get("nickname", "").strip():
        initial["nickname"] = nickname
    if "features" in request.GET:
        initial["features"] = [feature for feature in request.GET.getlist("features") if feature]
    return _credentials(request, CredentialsForm(spec=spec, initial=initial))


@login_required
@never_cache
@require_POST
@sensitive_get
@rate_limited("connection_test")
def connect_test(request: HttpRequest) -> HttpResponse:
    """Step 3: test the keys typed at step 2 (or carried, "test again") without storing them."""
    if "state" in request.POST:
        return _test_again(request)
    spec = _spec_or_none(request.POST.get("exchange"))
    if spec is None:
        return _choose(request, ExchangeChoiceForm(request.POST))
    form = CredentialsForm(posted(request), spec=spec)
    tested = submit(
        request,
        form,
        lambda data: connection_test(
            actor=page_actor(request),
            exchange=spec.id,
            api_key=data["api_key"],
            secret=data["secret"],
            passphrase=data.get("passphrase", ""),
            sandbox=bool(data.get("sandbox")),
        ),
    )
    if not tested.done:
        return _credentials(request, form)
    state = WizardState(**form.values(), result=tested.result.as_dict())
    return _render(request, "connect_test.html", 3, **_summary(request, state))


def _test_again(request: HttpRequest) -> HttpResponse:
    state = WizardState.open(request.POST["state"], request.user)
    if state is None:
        return _expired(request)
    holder = forms.Form(posted(request))
    tested = submit(
        request,
        holder,
        lambda _data: connection_test(
            actor=page_actor(request), exchange=state.exchange, sandbox=state.sandbox, **state.credentials
        ),
    )
    if not tested.done:
        for error in holder.non_field_errors():
            messages.error(request, error)
        return redirect(_back_to_keys_url(state))
    state = state.with_result(tested.result.as_dict())
    return _render(request, "connect_test.html", 3, **_summary(request, state))


@login_required
@never_cache
@require_POST
@sensitive_get
def connect_review(request: HttpRequest) -> HttpResponse:
    """Step 4: what will be saved, and the test's answer once more."""
    state = WizardState.open(request.POST.get("state", ""), request.user)
    if state is None:
        return _expired(request)
    summary = _summary(request, state)
    form = ReviewForm(
        initial={"state": summary["token"], "nickname": state.nickname},
        needs_override=not summary["result"].get("ok"),
    )
    return _render(request, "connect_review.html", 4, form=form, **summary)


@login_required
@never_cache
@require_POST
@sensitive_get
@rate_limited("connection_test")
def connect_save(request: HttpRequest) -> HttpResponse:
    """Step 4 confirmed: `connection_create` tests once more, asks for a fresh second factor and saves."""
    token = request.POST.get("state", "")
    state = WizardState.open(token, request.user)
    if state is None:
        return _expired(request)
    form = ReviewForm(
        posted(request),
        needs_override=not (state.result or {}).get("ok") or "save_untested" in request.POST,
        needs_code="otp_code" in request.POST,
    )
    failed: list[ConnectionTestFailed] = []

    def create(data: dict):
        if not claim(token):
            raise ValidationError("These keys were already saved from this page: see your connections.")
        try:
            return connection_create(
                actor=page_actor(request),
                user=request.user,
                exchange=state.exchange,
                nickname=data["nickname"],
                sandbox=state.sandbox,
                features=state.features,
                save_untested=bool(data.get("save_untested")),
                otp_code=data.get("otp_code", ""),
                **state.credentials,
            )
        except ConnectionTestFailed as exc:
            release(token)
            failed.append(exc)
            if "save_untested" not in form.fields:
                add_override_field(form)
            raise
        except Exception:
            release(token)
            raise

    saved = submit(request, form, asks_for_code(form, create))
    if saved.done:
        connection, result = saved.result
        name = exchange_spec(connection.exchange).name
        said = f"Connected “{connection.nickname}” ({name}, key …{connection.key_hint}). Test result {result.code}:"
        if result.ok:
            messages.success(request, f"{said} {result.message}")
        else:
            messages.warning(
                request, f"{said} {result.message} Saved anyway, as you asked; fix the key and test again."
            )
        flash_key_warnings(request, connection)
        return redirect(f"{reverse('exchanges:connections')}#connection-{connection.pk}")
    if failed:  # the exchange answered differently this time: show this answer
        state = state.with_result({"ok": False, "code": failed[0].test_code, "message": failed[0].message})
    summary = _summary(request, state)
    form.data = form.data.copy()
    form.data["state"] = summary["token"]
    return _render(request, "connect_review.html", 4, form=form, **summary)
