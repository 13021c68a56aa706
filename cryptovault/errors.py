"""Errors the domain raises for people to read. Pages show them as form errors, the API as
4xx JSON with the same `code` (see cryptovault.api.errors), so both say the same thing."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    code = "invalid"
    default_message = "The request could not be completed."

    @property
    def extra(self) -> dict:
        """Fields the API adds to its error body beside `detail` and `code` (e.g. a test's code)."""
        return {}

    def __init__(self, message: str | None = None, *, field: str | None = None):
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class NotPermitted(DomainError):
    status_code = 403
    code = "permission_denied"
    default_message = "You are not allowed to do that."
