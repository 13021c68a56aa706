"""/api/v1/me/ and /api/v1/auth/...: the account API."""

from django.urls import path

from accounts.api.views import (
    api_keys,
    notifications,
    passwords,
    profile,
    sessions,
    signup,
    tokens,
    two_factor,
    users,
)

auth = [
    path("signup/", signup.SignupView.as_view(), name="auth-signup"),
    path("verify-email/", signup.VerifyEmailView.as_view(), name="auth-verify-email"),
    path("verify-email/resend/", signup.ResendVerificationView.as_view(), name="auth-verify-email-resend"),
    path("token/", tokens.TokenObtainView.as_view(), name="auth-token"),
    path("token/sms/", tokens.TokenSmsView.as_view(), name="auth-token-sms"),
    path("token/refresh/", tokens.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("logout/", tokens.LogoutView.as_view(), name="auth-logout"),
    path("password/forgot/", passwords.ForgotPasswordView.as_view(), name="auth-password-forgot"),
    path("password/reset/validate/", passwords.ResetTokenValidateView.as_view(), name="auth-password-reset-validate"),
    path("password/reset/", passwords.ResetPasswordView.as_view(), name="auth-password-reset"),
    path("password/change/", passwords.ChangePasswordView.as_view(), name="auth-password-change"),
    path("2fa/", two_factor.TwoFactorStateView.as_view(), name="auth-2fa"),
    path("2fa/totp/", two_factor.TotpBeginView.as_view(), name="auth-2fa-totp"),
    path("2fa/totp/confirm/", two_factor.TotpConfirmView.as_view(), name="auth-2fa-totp-confirm"),
    path("2fa/recovery-codes/", two_factor.RecoveryCodesView.as_view(), name="auth-2fa-recovery-codes"),
    path("2fa/phone/", two_factor.PhoneAddView.as_view(), name="auth-2fa-phone"),
    path("2fa/phone/confirm/", two_factor.PhoneConfirmView.as_view(), name="auth-2fa-phone-confirm"),
    path("2fa/step-up/", two_factor.StepUpView.as_view(), name="auth-2fa-step-up"),
    path("2fa/sms/", two_factor.SmsCodeView.as_view(), name="auth-2fa-sms"),
    path("2fa/disable/", two_factor.TwoFactorDisableView.as_view(), name="auth-2fa-disable"),
    path("sessions/", sessions.SessionListView.as_view(), name="auth-sessions"),
    path("sessions/<int:session_id>/", sessions.SessionDetailView.as_view(), name="auth-session"),
    path("sessions/revoke-others/", sessions.SessionsRevokeOthersView.as_view(), name="auth-sessions-revoke-others"),
    path("api-keys/", api_keys.ApiKeyListCreateView.as_view(), name="auth-api-keys"),
    path("api-keys/<int:key_id>/", api_keys.ApiKeyDetailView.as_view(), name="auth-api-key"),
    path("profile/", profile.ProfileView.as_view(), name="auth-profile"),
    path("notification-preferences/", profile.NotificationPreferencesView.as_view(), name="auth-notifications"),
    path("export/", profile.ExportView.as_view(), name="auth-export"),
    path("delete-account/", profile.AccountDeleteView.as_view(), name="auth-delete-account"),
    path("users/", users.StaffUserListView.as_view(), name="auth-users"),
    path("users/<int:user_id>/", users.StaffUserDetailView.as_view(), name="auth-user"),
]

urlpatterns = [
    path("me/", profile.CurrentUserView.as_view(), name="me"),
    path("notifications/", notifications.NotificationListView.as_view(), name="notifications"),
    path("notifications/read-all/", notifications.NotificationsReadAllView.as_view(), name="notifications-read-all"),
    path(
        "notifications/<int:notification_id>/read/",
        notifications.NotificationReadView.as_view(),
        name="notification-read",
    ),
    *[path(f"auth/{pattern.pattern}", pattern.callback, name=pattern.name) for pattern in auth],
]
