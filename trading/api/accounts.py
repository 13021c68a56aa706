"""/api/v1/accounts/: your trading accounts, their balances, and the paper account's reset.

A reset destroys the paper account's positions (the ledger keeps the history as `reset` entries),
so it asks for an explicit `confirm: true` rather than a second factor: it moves no real money and
touches no key, and a trading script holding a `trade` key may legitimately start over.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.response import Response

from cryptovault.api.schema import error_response
from trading.api.account_serializers import (
    AccountResetSerializer,
    TradingAccountDetailSerializer,
    TradingAccountSerializer,
)
from trading.api.common import TradingApiView
from trading.models import TradingAccount
from trading.selectors import account_for, accounts_for
from trading.services.accounts import paper_account_reset

TAGS = ["trading"]
NOT_PAPER = error_response(
    409, "Only a paper account can be reset (`not_a_paper_account`): an exchange account's balances are the exchange's."
)


class AccountsApiView(TradingApiView):
    def account(self) -> TradingAccount:
        return account_for(self.request.user, self.kwargs["account_id"])


@extend_schema_view(
    get=extend_schema(
        summary="Your trading accounts",
        description="Your paper account and one account per exchange connection (closed ones too, "
        "`is_active` false), each with who runs which order type (`order_executions`). Balances are on "
        "GET /accounts/{id}/. An API key needs `read`.",
        tags=TAGS,
    )
)
class AccountListView(AccountsApiView, generics.ListAPIView):
    serializer_class = TradingAccountSerializer
    filter_backends: list = []

    def get_queryset(self):
        return accounts_for(self.request.user)


class AccountDetailView(AccountsApiView):
    @extend_schema(
        summary="One trading account with its balances",
        description="Every asset it holds or held: total (the sum of its ledger entries), locked by open orders, "
        "available, average cost and realised PnL. An API key needs `read`.",
        responses={200: TradingAccountDetailSerializer},
        tags=TAGS,
    )
    def get(self, request, account_id: int):
        return Response(TradingAccountDetailSerializer(self.account()).data)


class AccountResetView(AccountsApiView):
    input_serializer = AccountResetSerializer

    @extend_schema(
        summary="Reset your paper account",
        operation_id="accounts_reset",
        description="Cancels its open orders, empties every asset and deposits the starting balance again "
        "(`reset` entries in the ledger: the history stays). Needs `confirm: true`. Only a paper account: an "
        "exchange account answers 409 `not_a_paper_account`. An API key needs `trade`.",
        request=AccountResetSerializer,
        responses={200: TradingAccountDetailSerializer, 409: NOT_PAPER},
        tags=TAGS,
    )
    def post(self, request, account_id: int):
        account = self.account()
        self.parse()
        account = paper_account_reset(actor=self.actor, account=account)
        return Response(TradingAccountDetailSerializer(account).data)
