"""/api/v1/wallet/: withdrawals (list, request, read, cancel), deposit addresses and simulated paper deposits.

Each write is one call to `trading.services.withdrawals` or `trading.services.deposits`, which hold
every rule (the IP allowlist, the second factor, the whitelist and its cooldown, the network's
minimum and fee, the balance, the daily limit). Personal API keys read with `read`; one with the
`withdraw` scope may request and cancel withdrawals (as Binance's "enable withdrawals" key), and
every rule still applies to it: a second-factor `otp_code` in the body (a key never carries a
proof), the whitelist and its cooldown, the IP allowlists (the account's and the key's), the
limit. Deposits (paper money) stay refused to keys.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cryptovault.api.schema import error_response
from cryptovault.api.views import ServiceApiView
from trading.api.wallet_serializers import (
    DepositAddressQuerySerializer,
    DepositAddressSerializer,
    LedgerEntryOutSerializer,
    PaperDepositSerializer,
    WithdrawalInvalidSerializer,
    WithdrawalRequestSerializer,
    WithdrawalSerializer,
)
from trading.filters import WithdrawalFilterSet
from trading.models import AccountKind, TradingAccount, Withdrawal
from trading.selectors import accounts_for
from trading.services.deposits import deposit_address, paper_deposit
from trading.services.withdrawals import withdrawal_cancel, withdrawal_request
from trading.wallet_selectors import withdrawal_for, withdrawals_for

TAGS = ["wallet"]
WALLET_API_KEY_SCOPES = {"GET": "read"}  # keys read
WITHDRAW_API_KEY_SCOPES = {"GET": "read", "POST": "withdraw"}  # request and cancel, otp_code still needed
NO_PAPER_ACCOUNT = (
    "You have no paper account yet: it opens when you verify your email address. Name one of your accounts in "
    "`account` (GET /accounts/)."
)
GATE = (
    "Needs a verified email, 2FA on and a fresh second factor: `otp_code` (with `challenge_id` for a texted "
    "code), or a step-up within the last minutes; otherwise 403 with the gate's `code`."
)
REQUEST_INVALID = error_response(
    400,
    "Nothing was written. Per-field `errors`: an unknown `asset` or `network`, an `amount` below the network's "
    "minimum, not above its fee or with more than 8 decimals, a `destination` that is not a whitelisted address "
    "of this asset and network; or `insufficient_funds` (`asset`, `required`, `available`), "
    "`daily_limit_exceeded` (`limit`, `used`, `requested`, in USDT), or a wrong `otp_code` (`invalid_code`).",
    WithdrawalInvalidSerializer,
)
REQUEST_CONFLICT = error_response(
    409,
    "`address_cooling_down` (with `usable_from`): the whitelisted address is still in its cooldown; "
    "`address_removed`; `withdrawal_not_permitted`: the exchange key may not withdraw; `account_inactive`.",
)
NO_PRICE = error_response(
    503, "`price_unavailable`: no current price to value the amount against the limit. Nothing was written."
)
NOT_CANCELLABLE = error_response(
    409, "`withdrawal_not_cancellable`: it was sent, finished or cancelled already (only `pending` can be)."
)
EXCHANGE_FAILED = error_response(503, "`exchange_call_failed`: the exchange did not answer now (`reason`).")
PAPER_ONLY = error_response(409, "`not_a_paper_account` or `no_deposit_address`: the wrong kind of account.")


class WalletApiView(ServiceApiView):
    api_key_scopes = WALLET_API_KEY_SCOPES

    def withdrawal(self) -> Withdrawal:
        return withdrawal_for(self.request.user, self.kwargs["withdrawal_id"])

    def paper_account(self) -> TradingAccount:
        account = accounts_for(self.request.user).filter(kind=AccountKind.PAPER).first()
        if account is None:
            raise ValidationError({"account": [NO_PAPER_ACCOUNT]})
        return account


@extend_schema_view(
    get=extend_schema(
        summary="Your withdrawals",
        description="Newest first; filter by `status`, `asset`, `account` and creation day. An API key needs `read`.",
        tags=TAGS,
    )
)
class WithdrawalListCreateView(WalletApiView, generics.ListAPIView):
    api_key_scopes = WITHDRAW_API_KEY_SCOPES
    serializer_class = WithdrawalSerializer
    filterset_class = WithdrawalFilterSet
    input_serializer = WithdrawalRequestSerializer

    def get_queryset(self):
        return withdrawals_for(self.request.user)

    @extend_schema(
        summary="Request a withdrawal",
        description="From `account` (your paper account when left out) to a whitelisted `destination` past its "
        "cooldown (or, with whitelist-only withdrawals off, a typed `address`). `amount` includes the network "
        "fee. The withdrawal stays `pending` for `WITHDRAWAL_HOLD_SECONDS`, cancellable, then a paper one "
        "completes and an exchange one is sent through the exchange's API (`submitted`, then `completed` or "
        "`failed`). At most `WITHDRAWAL_DAILY_LIMIT_USDT` in 24 hours. A paper withdrawal is debited at once. "
        "A critical security alert goes to the owner. " + GATE + " A personal API key needs the `withdraw` "
        "scope and sends `otp_code` every time.",
        request=WithdrawalRequestSerializer,
        examples=[
            OpenApiExample(
                "To a whitelisted address",
                request_only=True,
                value={"asset": "USDT", "network": "TRX", "amount": "250", "destination": 3, "otp_code": "123456"},
            )
        ],
        responses={
            201: OpenApiResponse(WithdrawalSerializer, description="Requested: pending until its hold ends."),
            400: REQUEST_INVALID,
            409: REQUEST_CONFLICT,
            503: NO_PRICE,
        },
        tags=TAGS,
    )
    def post(self, request):
        data = self.parse()
        account = data.pop("account", None) or self.paper_account()
        withdrawal = withdrawal_request(
            actor=self.actor,
            account=account,
            asset=data["asset"],
            network=data["network"],
            amount=data["amount"],
            destination_id=data.get("destination"),
            address=data.get("address", ""),
            memo=data.get("memo", ""),
            otp_code=data.get("otp_code", ""),
            challenge_id=data.get("challenge_id", ""),
        )
        return Response(WithdrawalSerializer(withdrawal).data, status=status.HTTP_201_CREATED)


class WithdrawalDetailView(WalletApiView):
    @extend_schema(summary="One withdrawal", responses={200: WithdrawalSerializer}, tags=TAGS)
    def get(self, request, withdrawal_id: int):
        return Response(WithdrawalSerializer(self.withdrawal()).data)


class WithdrawalCancelView(WalletApiView):
    api_key_scopes = WITHDRAW_API_KEY_SCOPES

    @extend_schema(
        summary="Cancel a pending withdrawal",
        operation_id="wallet_withdrawals_cancel",
        description="Only while `pending`; a paper withdrawal's amount is credited back. A personal API key needs "
        "the `withdraw` scope.",
        request=None,
        responses={200: WithdrawalSerializer, 409: NOT_CANCELLABLE},
        tags=TAGS,
    )
    def post(self, request, withdrawal_id: int):
        withdrawal = withdrawal_cancel(actor=self.actor, withdrawal=self.withdrawal())
        return Response(WithdrawalSerializer(withdrawal).data)


class DepositAddressView(WalletApiView):
    @extend_schema(
        summary="A deposit address of an exchange account",
        description="Asked of the exchange now (nothing is stored). Send only `asset`, on `network`, to it, with "
        "the `memo` when there is one; the next sync reads the deposit. An API key needs `read`.",
        parameters=[
            OpenApiParameter("account", int, required=True, description="One of your exchange accounts."),
            OpenApiParameter("asset", str, required=True, description="e.g. `USDT`."),
            OpenApiParameter("network", str, required=True, description="e.g. `TRX`."),
        ],
        responses={200: DepositAddressSerializer, 409: PAPER_ONLY, 503: EXCHANGE_FAILED},
        tags=TAGS,
    )
    def get(self, request):
        query = DepositAddressQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        answer = deposit_address(
            actor=self.actor, account=data["account"], asset=data["asset"], network=data["network"]
        )
        return Response(DepositAddressSerializer(answer).data)


class PaperDepositView(WalletApiView):
    input_serializer = PaperDepositSerializer

    @extend_schema(
        summary="A simulated deposit into your paper account",
        description="Virtual money: a `deposit` ledger entry of `amount` `asset`, at most `PAPER_DEPOSIT_MAX_USDT` "
        "worth. Personal API keys cannot.",
        request=PaperDepositSerializer,
        responses={201: LedgerEntryOutSerializer, 409: PAPER_ONLY, 503: NO_PRICE},
        tags=TAGS,
    )
    def post(self, request):
        data = self.parse()
        account = data.get("account") or self.paper_account()
        entry = paper_deposit(actor=self.actor, account=account, asset=data["asset"], amount=data["amount"])
        return Response(LedgerEntryOutSerializer(entry).data, status=status.HTTP_201_CREATED)
