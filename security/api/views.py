"""GET /api/v1/security/audit/ and its CSV export: your own audit records.

The list is the page's list: the same selector (the read gate), the same FilterSet (the same
query parameters, answered 400 with per-field messages when invalid), the same page size. An API
key needs the `read` scope.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.negotiation import BaseContentNegotiation

from cryptovault.api.renderers import SafeJSONRenderer
from cryptovault.api.schema import ApiAutoSchema
from security.api.serializers import ActivitySerializer
from security.exports import COLUMNS, activity_csv_response
from security.filters import AuditEventFilterSet
from security.selectors import ActivityRow, activity_rows, audit_events_for

TAGS = ["security"]


class AuditEventsApiView(generics.ListAPIView):
    """Reads call no service, so there is no actor and no input serializer: only the gate and the filters."""

    serializer_class = ActivitySerializer
    filterset_class = AuditEventFilterSet
    api_key_scopes = {"GET": "read"}

    def get_queryset(self):
        return audit_events_for(user=self.request.user)


@extend_schema_view(
    get=extend_schema(
        summary="Your security activity",
        description="The audit records about your account, newest first: sign-ins, password and "
        "two-factor changes, API keys, sessions, and what staff did on your account (without their "
        "address or browser). The filters are the activity page's, with the same names.",
        tags=TAGS,
    )
)
class AuditEventListView(AuditEventsApiView):
    def paginate_queryset(self, queryset) -> list[ActivityRow]:
        return activity_rows(super().paginate_queryset(queryset))


class JsonErrorsNegotiation(BaseContentNegotiation):
    """A download answers its own media type whatever `Accept` says; its errors are JSON, as everywhere."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ListExportSchema(ApiAutoSchema):
    """A file made of a list: documented with the list's filter parameters, which drf-spectacular
    otherwise gives only to operations answering a list of objects."""

    def get_filter_backends(self):
        return getattr(self.view, "filter_backends", [])


@extend_schema_view(
    get=extend_schema(
        summary="Export your security activity (CSV)",
        operation_id="security_audit_export",
        description="Every record the filters match, in one CSV file (not paged), with a header row: "
        f"{', '.join(f'`{column}`' for column in COLUMNS)}, as in the list (`at` in UTC, `details` as "
        "JSON). Cells starting with = + - @ are prefixed with an apostrophe so no spreadsheet runs them. "
        "Sent as an attachment named `cryptovault-activity-YYYY-MM-DD.csv` (today, UTC), never cached.",
        tags=TAGS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file.")},
    )
)
class AuditEventExportView(AuditEventsApiView):
    pagination_class = None
    renderer_classes = [SafeJSONRenderer]  # for the errors; the file itself is streamed as text/csv
    content_negotiation_class = JsonErrorsNegotiation
    schema = ListExportSchema()

    def list(self, request, *args, **kwargs):
        return activity_csv_response(request, self.filter_queryset(self.get_queryset()))
