"""The gates of the admin site.

The read gate for admin pages over user-owned rows: staff lists start from the same
`visible_to` as pages and the API, asking as staff: a staff member holding the model's view
permission sees everyone's rows, anyone else only their own.

The door itself (`AdminGateMiddleware`): the admin answers only from ADMIN_ALLOWED_NETWORKS
(404 elsewhere) and only to staff who gave a second factor. The staff API keeps the same rule with
the same functions (`admin_reachable_from`, `staff_second_factor_missing`; cryptovault.api.permissions).
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import django.middleware.common
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from cryptovault.access import visible_to
from cryptovault.clientip import client_ip


class StaffGateAdminMixin:
    owner_field = "user"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return visible_to(queryset, request.user, owner_field=self.owner_field, as_staff=True)


class ReadOnlyAdminMixin:
    """Staff read these rows; every change goes through an audited action or the owner's own pages."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# --- who may open the admin at all -----------------------------------------------------------------------
@lru_cache(maxsize=8)
def admin_networks(setting: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    """ADMIN_ALLOWED_NETWORKS read as networks; a malformed entry stops the start, it is never skipped."""
    networks = []
    for entry in setting:
        try:
            networks.append(ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"ADMIN_ALLOWED_NETWORKS: {entry!r} is not an IP address or CIDR range") from exc
    return tuple(networks)


def admin_reachable_from(ip: str) -> bool:
    """Is the admin open to a client at `ip`? Everywhere while ADMIN_ALLOWED_NETWORKS is empty."""
    networks = admin_networks(tuple(settings.ADMIN_ALLOWED_NETWORKS))
    if not networks:
        return True
    try:
        address = ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == network.version and address in network for network in networks)


class AdminGateMiddleware:
    """Every /admin/ URL (and /admin), before the admin sees the request.

    - Outside ADMIN_ALLOWED_NETWORKS (the client IP as everywhere: trusted proxies only) the admin
      does not exist: the site's ordinary 404.
    - Staff must use a second factor: a staff account without 2FA is sent to the security page to
      turn it on, and a staff session that has not given its second factor (signed in before 2FA
      was on) is sent to the step-up page; either way back to the admin page afterwards.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        prefix = admin_prefix()
        # `/admin` too: outside, its slash redirect to /admin/ would tell that the admin is there.
        if request.path.startswith(prefix) or request.path == prefix.rstrip("/"):
            refused = admin_refusal(request)
            if refused is not None:
                return refused
        return self.get_response(request)


# Set on a request the gate answered 404 (outside ADMIN_ALLOWED_NETWORKS).
ADMIN_REFUSED = "_admin_gate_refused"


class CommonMiddleware(django.middleware.common.CommonMiddleware):
    """Django's, except that it never redirects a path the admin gate refused to its slashed form:
    outside ADMIN_ALLOWED_NETWORKS `/admin` is the same 404 as any unknown path, not a 301 to /admin/."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        return not getattr(request, ADMIN_REFUSED, False) and super().should_redirect_with_slash(request)


@lru_cache(maxsize=1)
def admin_prefix() -> str:
    return reverse("admin:index")


def admin_refusal(request: HttpRequest) -> HttpResponseBase | None:
    from accounts.next_url import with_next
    from cryptovault.views import page_not_found

    if not admin_reachable_from(client_ip(request)):
        setattr(request, ADMIN_REFUSED, True)
        return page_not_found(request, Http404())
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return None  # the admin's own rules: a sign-in for visitors, a 403 for other users
    missing = staff_second_factor_missing(user, proved_at_sign_in=user.is_verified())
    if missing == TWO_FACTOR_OFF:
        messages.warning(request, STAFF_NEED_TWO_FACTOR)
        return redirect(with_next(reverse("accounts:security"), request.get_full_path()))
    if missing == NOT_GIVEN_AT_SIGN_IN:
        return redirect(with_next(reverse("accounts:step_up"), request.get_full_path()))
    return None


# --- the one rule for staff powers: the admin above, the staff API (cryptovault.api.permissions.StaffOnly) ---
TWO_FACTOR_OFF = "two_factor_required"
NOT_GIVEN_AT_SIGN_IN = "step_up_required"


def staff_second_factor_missing(user, *, proved_at_sign_in: bool) -> str | None:
    """What a staff member owes before using staff powers: 2FA switched on (`TWO_FACTOR_OFF`), then
    given at this sign-in (`NOT_GIVEN_AT_SIGN_IN`: a session that is not `is_verified()`, a token
    without `otp_at`, an API key); None when nothing is missing."""
    from accounts.selectors import two_factor_enabled

    if not two_factor_enabled(user):
        return TWO_FACTOR_OFF
    if not proved_at_sign_in:
        return NOT_GIVEN_AT_SIGN_IN
    return None


STAFF_NEED_TWO_FACTOR = (
    "Staff need two-factor authentication to use the admin. Turn it on here, then open the admin again."
)
