"""Account pages beyond allauth's (which stay under /accounts/ too)."""

from django.urls import path

from accounts.views import api_keys, login_stage, profile, security, sessions, step_up, verification, your_data

app_name = "accounts"

urlpatterns = [
    path("verify/", verification.verify_email, name="verify_email"),
    path("verify/resend/", verification.resend_verification, name="resend_verification"),
    path("2fa/", login_stage.two_factor_authenticate, name="two_factor_authenticate"),
    path("step-up/", step_up.step_up, name="step_up"),
    path("security/", security.security, name="security"),
    path("security/totp/start/", security.totp_start, name="totp_start"),
    path("security/totp/", security.totp_setup, name="totp_setup"),
    path("security/recovery-codes/", security.recovery_codes, name="recovery_codes"),
    path(
        "security/recovery-codes/regenerate/",
        security.recovery_codes_regenerate_view,
        name="recovery_codes_regenerate",
    ),
    path("security/phone/", security.phone_add, name="phone_add"),
    path("security/phone/confirm/", security.phone_confirm, name="phone_confirm"),
    path("security/disable/", security.two_factor_disable_view, name="two_factor_disable"),
    path("sessions/", sessions.sessions, name="sessions"),
    path("sessions/<int:session_id>/revoke/", sessions.session_revoke_view, name="session_revoke"),
    path("sessions/revoke-others/", sessions.sessions_revoke_others_view, name="sessions_revoke_others"),
    path("api-keys/", api_keys.api_keys, name="api_keys"),
    path("api-keys/new/", api_keys.api_key_create_view, name="api_key_create"),
    path("api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke_view, name="api_key_revoke"),
    path("profile/", profile.profile, name="profile"),
    path("data/", your_data.your_data, name="your_data"),
    path("data/export/", your_data.your_data_export, name="your_data_export"),
    path("goodbye/", your_data.goodbye, name="goodbye"),
]
