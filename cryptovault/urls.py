from allauth.account import views as allauth_views
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from cryptovault import health, views
from cryptovault.api.docs import RedocDocsView, SwaggerDocsView
from cryptovault.ratelimits import rate_limited

admin.site.site_header = "CryptoVault administration"
admin.site.site_title = "CryptoVault admin"


def admin_login(request, extra_context=None):
    """Staff sign in through the same door as everyone (lockout, rate limits, second factor).
    Someone already signed in who reaches this is not staff: a 403, not a redirect loop."""
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect_to_login(request.GET.get("next", "/admin/"))


admin.site.login = admin_login

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health", health.liveness, name="health"),
    path("health/ready", health.readiness, name="health-ready"),
    path("admin/", admin.site.urls),
    # allauth's pages, each behind its per-client rate limit (cryptovault.ratelimits).
    path("accounts/login/", rate_limited("login")(allauth_views.login), name="account_login"),
    path("accounts/signup/", rate_limited("signup")(allauth_views.signup), name="account_signup"),
    path(
        "accounts/password/reset/",
        rate_limited("forgot_password")(allauth_views.password_reset),
        name="account_reset_password",
    ),
    re_path(
        r"^accounts/password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        rate_limited("reset_password")(allauth_views.password_reset_from_key),
        name="account_reset_password_from_key",
    ),
    re_path(
        r"^accounts/confirm-email/(?P<key>[-:\w]+)/$",
        rate_limited("verify_email")(allauth_views.confirm_email),
        name="account_confirm_email",
    ),
    path(
        "accounts/password/change/",
        rate_limited("login")(allauth_views.password_change),  # checks the current password
        name="account_change_password",
    ),
    # allauth's address management would let a session swap the sign-in email without a
    # second factor or an audit record; changing the email is not offered (yet).
    path("accounts/email/", views.page_not_found, name="account_email"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("security/", include("security.urls")),
    path("notifications/", include("accounts.notification_urls")),
    path("exchanges/", include("exchanges.urls")),
    path("", include("trading.urls")),  # /alerts/, /portfolio/, /trade/, /orders/, /transactions/, ...
    path("wallet/", include("trading.wallet_urls")),
    path("market/", include("exchanges.market.urls")),
    path("analytics/", include("analytics.urls")),
    path("api/v1/", include(("cryptovault.api.urls", "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocDocsView.as_view(url_name="schema"), name="redoc"),
    # Any other /api/ path is the API's JSON 404, also with DEBUG on (Django's debug 404 page is HTML
    # and lists every URL pattern).
    re_path(r"^api/", views.api_not_found, name="api-not-found"),
]

handler400 = "cryptovault.views.bad_request"
handler403 = "cryptovault.views.permission_denied"
handler404 = "cryptovault.views.page_not_found"
handler500 = "cryptovault.views.server_error"
