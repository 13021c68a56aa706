from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from cryptovault import health, views
from cryptovault.api.docs import RedocDocsView, SwaggerDocsView

admin.site.site_header = "CryptoVault administration"
admin.site.site_title = "CryptoVault admin"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health", health.liveness, name="health"),
    path("health/ready", health.readiness, name="health-ready"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include(("cryptovault.api.urls", "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocDocsView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "cryptovault.views.bad_request"
handler403 = "cryptovault.views.permission_denied"
handler404 = "cryptovault.views.page_not_found"
handler500 = "cryptovault.views.server_error"
