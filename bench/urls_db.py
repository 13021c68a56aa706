"""The project's URLs plus two benchmark routes.

- /bench/db: one ORM query (a COUNT on the users table), no Redis (benchmarks 1 and 2).
- /bench/drf: a bare DRF view, with no authentication, permissions or throttles and no DB
  (benchmark 5). What DRF itself costs in this server: the floor under every API endpoint, so
  that /api/v1/ and /api/v1/me/ can be read as "DRF plus what the project adds".
- /bench/drf-auth: the same bare view behind the project's API defaults (authentication, the
  permissions, the throttle's Redis round trip): what any signed-in API request costs before its
  view does anything (benchmark 8b compares the portfolio with it).
"""

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptovault.urls import *  # noqa: F403
from cryptovault.urls import urlpatterns as project_urlpatterns


@never_cache
def db_view(request):
    return JsonResponse({"users": get_user_model().objects.count()})


class BareDrfView(APIView):
    """DRF's request, content negotiation and JSON rendering, and nothing of the project's API."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()

    def get(self, request):
        return Response({"ok": True})


class AuthenticatedBareDrfView(APIView):
    """A bare answer behind the settings' authentication, permissions and throttle."""

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/db", db_view, name="bench-db"),
    path("bench/drf", BareDrfView.as_view(), name="bench-drf"),
    path("bench/drf-auth", AuthenticatedBareDrfView.as_view(), name="bench-drf-auth"),
    *project_urlpatterns,
]
