"""The project's URLs plus views that fail on purpose, to see how failures look to users."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path
from rest_framework.views import APIView

from cryptovault.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def forbidden_page(request):
    raise PermissionDenied


def suspicious_page(request):
    raise SuspiciousOperation("tampered input")


def crashing_page(request):
    raise RuntimeError("boom with password=hunter2")


class CrashingApiView(APIView):
    def get(self, request):
        raise RuntimeError("boom with api_key=abc123def456")


# First, so the project's /api/ catch-all (the JSON 404) does not answer instead.
urlpatterns = [
    path("crash/", crashing_page),
    path("forbidden/", forbidden_page),
    path("suspicious/", suspicious_page),
    path("api/v1/crash/", CrashingApiView.as_view()),
    *urlpatterns,
]
