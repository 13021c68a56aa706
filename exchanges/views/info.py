"""The exchange security panel (audit trail, best practices, our outbound IP) and the guides."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exchanges.catalogue import catalogue
from exchanges.errors import UnknownExchange
from exchanges.guides import BEST_PRACTICES, guide
from exchanges.selectors import connection_audit_for
from security.selectors import activity_rows

AUDIT_ROWS = 50


@login_required
@require_GET
def security_panel(request: HttpRequest) -> HttpResponse:
    events = connection_audit_for(user=request.user)[:AUDIT_ROWS]
    context = {
        "rows": activity_rows(events),
        "audit_rows": AUDIT_ROWS,
        "best_practices": BEST_PRACTICES,
        "egress_ip": settings.EGRESS_IP,
        "specs": catalogue(),
    }
    return render(request, "exchanges/security.html", context)


@login_required
@require_GET
def guide_page(request: HttpRequest, exchange_id: str) -> HttpResponse:
    try:
        exchange_guide = guide(exchange_id)
    except UnknownExchange:
        raise Http404("No guide for that exchange.") from None
    context = {"guide": exchange_guide, "spec": exchange_guide.spec, "egress_ip": settings.EGRESS_IP}
    return render(request, "exchanges/guide.html", context)
