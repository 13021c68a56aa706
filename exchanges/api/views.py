"""/api/v1/exchanges/ and /api/v1/connections/: the exchange catalogue and your connections.

Reads (GET) take a personal API key with the `read` scope. Every write (connect, test keys, test
now, edit, rotate, revoke) is refused to API keys (`api_key_scopes = {"GET": "read"}`): a key that
could store or swap exchange keys would outrank the second factor that guards them. Session and JWT
clients write; connecting and rotating also pass the service's sensitive-action gate (a verified
email, 2FA on and a fresh second factor: `otp_code` in the request, or a recent step-up), which
answers 403 with its code. Another user's connection is not found (404) for every method.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from cryptovault.api.schema import error_response
from cryptovault.api.views import ServiceApiView
from cryptovault.ratelimits import rate_limited
from exchanges.api.serializers import (
    CheckResultSerializer,
    ConnectionCheckSerializer,
    ConnectionCreateSerializer,
    ConnectionListQuerySerializer,
    ConnectionRotateSerializer,
    ConnectionSerializer,
    ConnectionTestedSerializer,
    ConnectionTestFailedSerializer,
    ConnectionTestInputSerializer,
    ConnectionUpdateSerializer,
    ExchangeSerializer,
    TestResultSerializer,
)
from exchanges.catalogue import catalogue
from exchanges.filters import ExchangeConnectionFilterSet
from exchanges.models import ExchangeConnection, Status
from exchanges.selectors import connection_audit_for, connection_for, connections_for, latency_history
from exchanges.services.connections import connection_revoke, connection_update
from exchanges.services.health import connection_check
from exchanges.services.keys import connection_create, connection_rotate, connection_test
from security.api.serializers import ActivitySerializer
from security.filters import AuditEventFilterSet
from security.selectors import ActivityRow, activity_rows

TAGS = ["exchanges"]
READ_ONLY_FOR_API_KEYS = {"GET": "read"}

TEST_FAILED = error_response(
    400,
    "Invalid input (per-field `errors`; an unknown exchange is an `exchange` error), or the exchange refused the "
    "keys: `code` connection_test_failed with the test's `test_code`, and nothing changed.",
    ConnectionTestFailedSerializer,
)
REVOKED = error_response(409, "The connection was revoked (`connection_revoked`): connect the account again.")
GATE = (
    "Needs a verified email, 2FA on and a fresh second factor: `otp_code` (with `challenge_id` for a texted code), "
    "or a step-up within the last minutes; otherwise 403 with the gate's `code` (`email_not_verified`, "
    "`two_factor_required`, `step_up_required`, ...). Personal API keys cannot do this."
)


class ExchangesApiView(ServiceApiView):
    """Reads for `read` keys, writes for people (see the module)."""

    api_key_scopes = READ_ONLY_FOR_API_KEYS

    def connection(self) -> ExchangeConnection:
        """The caller's connection from the URL, revoked ones included; another user's is a 404."""
        return connection_for(user=self.request.user, pk=self.kwargs["connection_id"])


@extend_schema_view(
    get=extend_schema(
        summary="Exchanges you can connect",
        description="The catalogue: what each exchange's keys need, its base fees, and where to make a key. "
        "Not paged (a handful of entries).",
        tags=TAGS,
    )
)
class ExchangeListView(ExchangesApiView, generics.ListAPIView):
    """The catalogue is code, not rows: nothing to page or filter."""

    serializer_class = ExchangeSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return list(catalogue())


@extend_schema_view(
    get=extend_schema(
        summary="Your exchange connections",
        description="Active connections by exchange and nickname; revoked ones too with `include_revoked=true` "
        "or `status=revoked`. The filters are the connections page's. An API key needs `read`.",
        parameters=[
            OpenApiParameter(
                "include_revoked", OpenApiTypes.BOOL, description="Also list revoked connections (default false)."
            )
        ],
        tags=TAGS,
    )
)
@method_decorator(rate_limited("connection_test"), name="dispatch")  # POSTs only: connecting tests the keys
class ConnectionListCreateView(ExchangesApiView, generics.ListAPIView):
    """The page's selector and FilterSet; revoked rows are history, shown only when asked for."""

    serializer_class = ConnectionSerializer
    filterset_class = ExchangeConnectionFilterSet
    input_serializer = ConnectionCreateSerializer

    def get_queryset(self):
        query = ConnectionListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        include_revoked = query.validated_data["include_revoked"] or (
            self.request.query_params.get("status") == Status.REVOKED
        )
        return connections_for(user=self.request.user, include_revoked=include_revoked)

    @extend_schema(
        summary="Connect an exchange account",
        description="The keys are tested against the exchange first and stored (encrypted) only when the test "
        "passes, unless `save_untested` is true. " + GATE + " The answer holds the test and the key auditor's "
        "`warnings`; it never holds the keys.",
        request=ConnectionCreateSerializer,
        responses={201: ConnectionTestedSerializer, 400: TEST_FAILED},
        tags=TAGS,
    )
    def post(self, request):
        connection, result = connection_create(actor=self.actor, user=request.user, **self.parse())
        body = {**ConnectionSerializer(connection).data, "test": TestResultSerializer(result).data}
        return Response(body, status=status.HTTP_201_CREATED)


@method_decorator(rate_limited("connection_test"), name="dispatch")
class ConnectionTestView(ExchangesApiView):
    """The wizard's "test" button for scripts: each call reaches the exchange, hence the group limit."""

    @extend_schema(
        summary="Test keys without storing them",
        description="One authenticated call to the exchange with these keys. A failing test is still a 200 with "
        "`ok` false and its `code`: the test ran. Limited per client address with the `connection_test` group. "
        "Personal API keys cannot do this.",
        operation_id="connections_test_keys",
        request=ConnectionTestInputSerializer,
        responses={200: TestResultSerializer},
        tags=TAGS,
    )
    def post(self, request):
        result = connection_test(actor=self.actor, **self.parse(ConnectionTestInputSerializer))
        return Response(TestResultSerializer(result).data)


@extend_schema_view(
    get=extend_schema(
        summary="Activity of your exchange connections",
        description="The audit records about your connections (connected, tested, rotated, revoked, status "
        "changes), newest first, with the security activity's filters.",
        tags=TAGS,
    )
)
class ConnectionAuditView(ExchangesApiView, generics.ListAPIView):
    """The security activity narrowed to connections, in the same row shape (ActivityRow)."""

    serializer_class = ActivitySerializer
    filterset_class = AuditEventFilterSet

    def get_queryset(self):
        return connection_audit_for(user=self.request.user)

    def paginate_queryset(self, queryset) -> list[ActivityRow]:
        return activity_rows(super().paginate_queryset(queryset))


class ConnectionDetailView(ExchangesApiView):
    """DELETE revokes (204, like an API key): the row stays for the record, the keys go."""

    @extend_schema(
        summary="One exchange connection",
        description="Its state, the key's hint, age and reported permissions, and the key auditor's `warnings`; "
        "revoked connections too. Never the keys. An API key needs `read`.",
        responses={200: ConnectionSerializer},
        tags=TAGS,
    )
    def get(self, request, connection_id: int):
        return Response(ConnectionSerializer(self.connection()).data)

    @extend_schema(
        summary="Rename a connection or change its features",
        description="The keys stay as they are (rotate them with rotate/). Personal API keys cannot do this.",
        request=ConnectionUpdateSerializer,
        responses={200: ConnectionSerializer, 409: REVOKED},
        tags=TAGS,
    )
    def patch(self, request, connection_id: int):
        connection = connection_update(
            actor=self.actor, connection=self.connection(), **self.parse(ConnectionUpdateSerializer)
        )
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(
        summary="Revoke a connection",
        description="The keys are wiped from our database at once and the connection is kept, `revoked`, for the "
        "record (GET it, or list it with `include_revoked=true`). No second factor is asked, so leaked keys can be "
        "cut off at once; revoking again changes nothing. Delete the key on the exchange too. Answers 204 with "
        "no body, as revoking an API key does. Personal API keys cannot do this.",
        responses={204: None},
        tags=TAGS,
    )
    def delete(self, request, connection_id: int):
        connection_revoke(actor=self.actor, connection=self.connection())
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(rate_limited("connection_test"), name="dispatch")
class ConnectionCheckView(ExchangesApiView):
    """Testing now reaches the exchange like a key test, so it counts against the same group."""

    @extend_schema(
        summary="Test a connection now",
        description="Tests the stored keys: status, latency and the key's permissions are updated (a failing "
        "test is a 200 with `ok` false). Limited per client address with the `connection_test` group. Personal "
        "API keys cannot do this.",
        operation_id="connections_check",
        request=None,
        responses={200: CheckResultSerializer, 409: REVOKED},
        tags=TAGS,
    )
    def post(self, request, connection_id: int):
        connection = self.connection()
        result = connection_check(actor=self.actor, connection=connection)
        return Response(CheckResultSerializer({**result.as_dict(), "status": connection.status}).data)


@method_decorator(rate_limited("connection_test"), name="dispatch")
class ConnectionRotateView(ExchangesApiView):
    """Sensitive like connecting: the service's gate and test decide; the old keys stay on failure."""

    @extend_schema(
        summary="Replace a connection's keys",
        description="The new keys are tested first and replace the old ones only when the test passes; "
        "otherwise 400 `connection_test_failed` and the old keys stay in use. " + GATE,
        request=ConnectionRotateSerializer,
        responses={200: ConnectionTestedSerializer, 400: TEST_FAILED, 409: REVOKED},
        tags=TAGS,
    )
    def post(self, request, connection_id: int):
        connection = self.connection()
        result = connection_rotate(actor=self.actor, connection=connection, **self.parse(ConnectionRotateSerializer))
        body = {**ConnectionSerializer(connection).data, "test": TestResultSerializer(result).data}
        return Response(body)


class ConnectionChecksView(ExchangesApiView):
    """At most 48 points, so one unpaged array a chart can draw as it is."""

    @extend_schema(
        summary="Latency history of a connection",
        description="The latest tests of the connection (at most 48), oldest first: a small chart's points.",
        responses={200: ConnectionCheckSerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request, connection_id: int):
        checks = latency_history(user=request.user, connection=self.connection())
        return Response(ConnectionCheckSerializer(checks, many=True).data)
