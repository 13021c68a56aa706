"""Answer shapes every app's API shares: the one error shape and a plain sentence.

They live here, beside the exception handler that produces the errors
(cryptovault.api.errors), so the documentation and the answers cannot drift apart, and a
new app documents its endpoints without importing from accounts.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# What DRF's ValidationError.detail turns into: a list of messages per field, and for nested
# input an object per nested serializer or per list index (`{"allowed_ips": {"1": [...]}}`),
# or a list of such objects for `many=True` serializers, at any depth. A ValidationError a view
# raises itself with `{"field": "message"}` keeps the bare string. Described loosely on purpose.
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Per-field messages for bad input: a list of sentences per field, or for nested input an "
    "object keyed by the nested field name or list index (for example `errors.allowed_ips.1`), at any depth.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": {}}]}},
            {"type": "object", "additionalProperties": {}},
            {"type": "string"},
        ]
    },
}


@extend_schema_field(FIELD_ERRORS_SCHEMA)
class FieldErrorsField(serializers.DictField):
    """`errors` of the error shape: field name to messages, or to nested field errors."""


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class ErrorSerializer(serializers.Serializer):
    """Every failure: a sentence, a machine code, per-field messages for bad input, the request id."""

    detail = serializers.CharField(help_text="A sentence for people.")
    code = serializers.CharField(
        help_text="For programs: `invalid`, `not_authenticated`, `permission_denied`, `not_found`, `throttled`, ..."
    )
    errors = FieldErrorsField(required=False)
    request_id = serializers.CharField(help_text="The X-Request-ID of the request: quote it to support.")
