"""Every action the audit log records: the one enumerated list, code → what it means in words.

`security.audit.audit_record` refuses a code that is not here (a `ValueError`: a programming error,
which the tests of the code path catch), and `tests/security/test_actions_registry.py` reads the
source of every app for `audit_record("...")` and fails on a code missing here. A feature that
records something new adds one line below, in its app's group; the activity page, the API, the CSV
and the admin's filter show the label. Codes are `<subject>.<what happened>`, past tense; a code
already written to the log is never renamed (old rows keep it).
"""

from __future__ import annotations

AUDIT_ACTIONS: dict[str, str] = {
    # --- signing in and out (accounts.signals, accounts.services.auth) ---------------------------------
    "auth.signed_in": "Signed in",
    "auth.signed_out": "Signed out",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.locked_out": "Locked out after failed sign-ins",
    "auth.lockout_cleared": "Lockout cleared",
    "auth.password_changed": "Password changed",
    "auth.password_reset": "Password reset (from a reset link)",
    "auth.token_issued": "API token issued",
    "auth.token_revoked": "API tokens revoked",
    # --- the account (accounts.services) ---------------------------------------------------------------
    "account.signed_up": "Account created",
    "account.sign_up_existing_email": "Sign-up tried with your email address",
    "account.role_assigned": "Role changed",
    "account.data_exported": "Data exported",
    "account.delete_refused": "Account deletion refused",
    "account.deleted": "Account deleted",
    "email.verification_sent": "Verification email sent",
    "email.verification_failed": "Email verification failed",
    "email.verified": "Email address verified",
    "profile.updated": "Profile updated",
    "profile.notifications_updated": "Notification settings changed",
    "session.revoked": "Session signed out",
    "session.revoked_others": "Other sessions signed out",
    # --- second factors (accounts.services.second_factor) ----------------------------------------------
    "2fa.totp_enabled": "Authenticator app turned on",
    "2fa.totp_confirm_failed": "Authenticator app set-up failed",
    "2fa.phone_code_sent": "Code texted",
    "2fa.phone_verified": "Phone verified for two-factor",
    "2fa.code_accepted": "Second factor accepted",
    "2fa.code_rejected": "Second factor rejected",
    "2fa.recovery_code_used": "Recovery code used",
    "2fa.recovery_codes_regenerated": "New recovery codes",
    "2fa.disabled": "Two-factor authentication turned off",
    # --- personal API keys (accounts.services.api_keys) ------------------------------------------------
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    # --- exchange connections (exchanges.services) -----------------------------------------------------
    "exchange.connected": "Exchange connected",
    "exchange.connect_failed": "Exchange connection refused (test failed)",
    "exchange.tested": "Exchange keys tested",
    "exchange.updated": "Exchange connection edited",
    "exchange.rotated": "Exchange keys rotated",
    "exchange.rotation_failed": "Exchange key rotation failed",
    "exchange.revoked": "Exchange connection revoked",
    "exchange.status_changed": "Exchange connection status changed",
    # --- trading (trading.services) --------------------------------------------------------------------
    "order.placed": "Order placed",
    "order.cancelled": "Order cancelled",
    "order.rejected": "Order rejected",
    "paper.opened": "Paper account opened",
    "paper.reset": "Paper account reset",
    "trading_account.opened": "Exchange trading account opened",
    "trading_account.closed": "Exchange trading account closed",
    "alert.created": "Price alert created",
    "alert.cancelled": "Price alert cancelled",
    "alert.fired": "Price alert fired",
    # --- analytics (analytics.services) ----------------------------------------------------------------
    "backtest.created": "Backtest started",
    "backtest.cancelled": "Backtest cancelled",
    # --- wallet: withdrawals and deposits (trading.services) -------------------------------------------
    "withdrawal.requested": "Withdrawal requested",
    "withdrawal.submitted": "Withdrawal sent to the exchange",
    "withdrawal.cancelled": "Withdrawal cancelled",
    "withdrawal.completed": "Withdrawal completed",
    "withdrawal.failed": "Withdrawal failed",
    "deposit.simulated": "Paper deposit",
    "deposit_address.viewed": "Deposit address shown",
    # --- security controls (security.services, security.ip_allowlist) ----------------------------------
    "security.ip_allowlist_added": "IP allowlist entry added",
    "security.ip_allowlist_removed": "IP allowlist entry removed",
    "security.ip_refused": "Refused: IP address not on the allowlist",
    "withdrawal_address.added": "Withdrawal address added",
    "withdrawal_address.removed": "Withdrawal address removed",
    "whitelist.mode_changed": "Whitelist-only withdrawals switched",
    "security.anti_phishing_changed": "Anti-phishing code changed",
    # --- backups (backups.services): the operator's, recorded with no user -----------------------------
    "backup.created": "Backup created",
    "backup.verified": "Backup verified",
    "backup.restored": "Backup restored",
    "backup.pruned": "Old backups pruned",
}


class UnknownAuditAction(ValueError):
    """An action missing from `AUDIT_ACTIONS`: add it there (with its label) before recording it."""


def require_registered(action: str) -> str:
    if action not in AUDIT_ACTIONS:
        raise UnknownAuditAction(
            f"Audit action {action!r} is not registered: add it with its label to security/actions.py AUDIT_ACTIONS."
        )
    return action


def action_label(action: str) -> str:
    """The words for `action`; an old row whose code left the registry still shows, by its code."""
    return AUDIT_ACTIONS.get(action, action)


def action_choices() -> list[tuple[str, str]]:
    """Every registered action, labelled, sorted by label: for a select or a filter."""
    return sorted(AUDIT_ACTIONS.items(), key=lambda choice: choice[1].lower())
