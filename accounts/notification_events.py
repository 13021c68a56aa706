"""Every event a user can be notified of: its preference category, default priority and wording.

`accounts.notify.notify(user=..., event=<key>, context={...})` looks the key up here. Title, body and
link are `str.format` templates over `context` (a missing key renders empty and is logged, so a
wording slip never undoes the change being announced). `context_keys` lists what the emitter passes;
`tests/accounts/test_notifications.py` renders every event with them.

Features add their events here (one entry each); the category must be a key of
`accounts.notifications.EVENT_TYPES`, the preference the user sets on the profile page.
Critical events reach the user by email (and SMS when their phone is verified) whatever those
preferences say.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models.notifications import NotificationPriority

P = NotificationPriority


@dataclass(frozen=True)
class NotificationEvent:
    key: str
    category: str
    priority: str
    title: str
    body: str
    link: str = ""
    context_keys: tuple[str, ...] = ()


SECURITY_LINK = "/security/"
WALLET_LINK = "/wallet/"

NOTIFICATION_EVENTS: dict[str, NotificationEvent] = {
    event.key: event
    for event in (
        # --- security alerts (critical ones cannot be turned off) -----------------------------------
        NotificationEvent(
            "security.new_sign_in",
            "security",
            P.HIGH,
            "New sign-in from {browser}",
            "Your account was signed in to from a new IP address or device: {browser} at {ip}. "
            "If this was not you, change your password and end your other sessions now.",
            "/accounts/sessions/",
            ("ip", "browser"),
        ),
        NotificationEvent(
            "security.locked_out",
            "security",
            P.CRITICAL,
            "Sign-in locked after failed attempts",
            "Too many wrong passwords or codes were tried on your account, so signing in is locked for a while. "
            "If this was not you, someone may know your password: change it once you are back in.",
            SECURITY_LINK,
        ),
        NotificationEvent(
            "security.two_factor_disabled",
            "security",
            P.CRITICAL,
            "Two-factor authentication turned off",
            "Two-factor authentication was turned off for your account. If this was not you, sign in, "
            "change your password and turn it back on.",
            "/accounts/security/",
        ),
        NotificationEvent(
            "security.password_changed",
            "security",
            P.CRITICAL,
            "Your password was changed",
            "The password of your account was changed and your other sessions were ended. "
            "If this was not you, reset your password now.",
            SECURITY_LINK,
        ),
        NotificationEvent(
            "security.api_key_created",
            "security",
            P.HIGH,
            "New API key: {key_name}",
            "A personal API key “{key_name}” was created on your account. If this was not you, revoke it now.",
            "/accounts/api-keys/",
            ("key_name",),
        ),
        NotificationEvent(
            "security.exchange_key_failing",
            "security",
            P.HIGH,
            "{title}",
            "{message}",
            "{link}",
            ("title", "message", "link", "connection_id", "status", "code"),
        ),
        NotificationEvent(
            "security.ip_allowlist_changed",
            "security",
            P.CRITICAL,
            "IP allowlist changed",
            "Your IP allowlist changed: {change} {network}. Protected actions are refused from any other address "
            "while the list is not empty.",
            "/security/allowlist/",
            ("change", "network"),
        ),
        NotificationEvent(
            "security.ip_refused",
            "security",
            P.HIGH,
            "Refused from {ip}",
            "Someone signed in to your account tried to {action} from {ip}, an address outside your IP allowlist. "
            "It was refused. If this was not you, change your password.",
            "/security/allowlist/",
            ("ip", "action"),
        ),
        NotificationEvent(
            "security.withdrawal_address_added",
            "security",
            P.CRITICAL,
            "Withdrawal address added: {label}",
            "A {asset} address on {network} (“{label}”) was added to your withdrawal whitelist. "
            "It can be used from {usable_from}. If this was not you, remove it now and change your password.",
            "/security/withdrawal-addresses/",
            ("label", "asset", "network", "usable_from"),
        ),
        NotificationEvent(
            "security.withdrawal_address_removed",
            "security",
            P.HIGH,
            "Withdrawal address removed: {label}",
            "The {asset} address on {network} (“{label}”) was removed from your withdrawal whitelist.",
            "/security/withdrawal-addresses/",
            ("label", "asset", "network"),
        ),
        NotificationEvent(
            "security.whitelist_mode_changed",
            "security",
            P.CRITICAL,
            "Withdrawal whitelist mode {state}",
            "Whitelist-only withdrawals were turned {state} for your account.{effect} If this was not you, "
            "sign in and change your password.",
            "/security/withdrawal-addresses/",
            ("state", "effect"),
        ),
        NotificationEvent(
            "security.withdrawal_requested",
            "security",
            P.CRITICAL,
            "Withdrawal requested: {amount} {asset}",
            "A withdrawal of {amount} {asset} on {network} to {address} was requested. "
            "If this was not you, cancel it on the wallet page while it is pending and change your password.",
            WALLET_LINK,
            ("amount", "asset", "network", "address"),
        ),
        NotificationEvent(
            "security.anti_phishing_changed",
            "security",
            P.CRITICAL,
            "Anti-phishing code changed",
            "The anti-phishing code shown in our emails to you was changed. Emails without it are not from us.",
            SECURITY_LINK,
        ),
        # --- wallet ---------------------------------------------------------------------------------
        NotificationEvent(
            "wallet.withdrawal_completed",
            "wallet",
            P.NORMAL,
            "Withdrawal completed: {amount} {asset}",
            "Your withdrawal of {amount} {asset} on {network} to {address} was completed.",
            WALLET_LINK,
            ("amount", "asset", "network", "address"),
        ),
        NotificationEvent(
            "wallet.withdrawal_failed",
            "wallet",
            P.HIGH,
            "Withdrawal failed: {amount} {asset}",
            "Your withdrawal of {amount} {asset} on {network} failed: {reason}",
            WALLET_LINK,
            ("amount", "asset", "network", "reason"),
        ),
        NotificationEvent(
            "wallet.withdrawal_cancelled",
            "wallet",
            P.NORMAL,
            "Withdrawal cancelled: {amount} {asset}",
            "Your withdrawal of {amount} {asset} on {network} was cancelled and the funds returned to your balance.",
            WALLET_LINK,
            ("amount", "asset", "network"),
        ),
        NotificationEvent(
            "wallet.deposit_received",
            "wallet",
            P.NORMAL,
            "Deposit received: {amount} {asset}",
            "{amount} {asset} arrived in {account}.",
            WALLET_LINK,
            ("amount", "asset", "account"),
        ),
        # --- existing features (their wording is built by the emitter) ------------------------------
        NotificationEvent(
            "exchanges.connection_status",
            "exchanges",
            P.NORMAL,
            "{title}",
            "{message}",
            "{link}",
            ("title", "message", "link", "connection_id", "status", "code"),
        ),
        NotificationEvent(
            "exchanges.connection_revoked",
            "exchanges",
            P.HIGH,
            "{nickname}: revoked",
            "Your {exchange} connection “{nickname}” was revoked by the CryptoVault team and its keys deleted here. "
            "Delete the key on the exchange too, and connect again with a new key if you still want to trade.",
            "{link}",
            ("nickname", "exchange", "link", "connection_id", "status"),
        ),
        NotificationEvent(
            "alerts.price_alert_fired",
            "alerts",
            P.NORMAL,
            "{title}",
            "{body}",
            "{link}",
            ("title", "body", "link", "alert_id"),
        ),
        *(
            NotificationEvent(
                f"orders.{what}",
                "orders",
                P.LOW if what in ("placed", "cancelled") else P.NORMAL,
                "{title}",
                "{body}",
                "{link}",
                ("title", "body", "link", "order_id", "symbol", "status"),
            )
            for what in ("placed", "filled", "cancelled", "rejected", "expired")
        ),
    )
}
