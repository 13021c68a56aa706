"""The admin over accounts: who is verified, who has 2FA, who is locked out, and the keys.

No page shows a secret: not the password hash (Django masks it), not a TOTP seed, not a
recovery, SMS or API key digest, not a refresh token or a session key. Support (view-only
staff, see accounts.services.roles) reads these pages; only admins act on them, and only
through actions that call the same services as the pages and the API (audited): assigning a
role, deleting (anonymising) an account, clearing a lockout, revoking a key. Nothing about an
account is edited in a form here, and nothing is hard-deleted.
"""

from __future__ import annotations

from allauth.account.admin import EmailAddressAdmin as AllauthEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.usersessions.admin import UserSessionAdmin as AllauthUserSessionAdmin
from allauth.usersessions.models import UserSession
from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.admin import AccessFailureLogAdmin as AxesAccessFailureLogAdmin
from axes.admin import AccessLogAdmin as AxesAccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.admin import BlacklistedTokenAdmin, OutstandingTokenAdmin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import ApiKey, RecoveryCodeDevice, SMSDevice, TOTPDevice, User
from accounts.models.notifications import Notification, NotificationDelivery
from accounts.selectors import lockout_attempts, two_factor_summary, users_with_account_state
from accounts.services.api_keys import api_key_revoke
from accounts.services.auth import lockout_clear
from accounts.services.roles import ADMIN, SUPPORT, TRADER, role_assign
from accounts.services.signup import account_created
from accounts.services.your_data import account_delete
from cryptovault.admin_gate import ReadOnlyAdminMixin, StaffGateAdminMixin
from cryptovault.errors import DomainError
from cryptovault.pages import page_actor


def _attempts_link(email: str, label: str) -> str:
    url = reverse("admin:axes_accessattempt_changelist") + "?" + urlencode({"q": email})
    return format_html('<a href="{}">{}</a>', url, label)


class _AnnotatedYesNoFilter(admin.SimpleListFilter):
    """Filter on one of the annotations users_with_account_state() adds."""

    annotation = ""

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{self.annotation: self.value() == "yes"})
        return queryset


class EmailVerifiedFilter(_AnnotatedYesNoFilter):
    title = _("email verified")
    parameter_name = "verified"
    annotation = "has_verified_email"


class TwoFactorFilter(_AnnotatedYesNoFilter):
    title = _("two-factor on")
    parameter_name = "two_factor"
    annotation = "has_two_factor"


class LockedOutFilter(_AnnotatedYesNoFilter):
    title = _("locked out")
    parameter_name = "locked"
    annotation = "is_locked_out"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users by email with their verification, 2FA and lockout state. Nothing is edited in the form;
    staff never choose a password (users reset their own from the email link)."""

    ordering = ["email"]
    list_display = [
        "email",
        "name",
        "email_verified",
        "two_factor",
        "locked_out",
        "roles",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    ]
    list_filter = [EmailVerifiedFilter, TwoFactorFilter, LockedOutFilter, "is_staff", "is_active", "groups"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email",)}),
        (_("Profile"), {"fields": ("name", "timezone", "phone", "phone_verified_at")}),
        (_("Security"), {"fields": ("email_verified_state", "two_factor_state", "lockout_state")}),
        (_("Role"), {"fields": ("roles", "is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined", "anonymised_at")}),
    )
    # Every field is read-only: a role, a deletion, a lockout each go through an audited action.
    readonly_fields = [field for _, section in fieldsets for field in section["fields"]]
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)
    actions = ["clear_lockout", "make_trader", "make_support", "make_admin", "delete_accounts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return users_with_account_state(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # accounts are anonymised, never hard-deleted
        return actions

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_anonymise_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.delete_user")

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        """Only an added account is saved here; it gets what every new account gets (audit, email)."""
        if change:
            raise PermissionDenied
        super().save_model(request, obj, form, change)
        account_created(actor=page_actor(request), user=obj)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        """Nothing here is saved, so the page offers no Save buttons; the actions are on the list."""
        no_save = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **no_save})

    def user_change_password(self, request: HttpRequest, id, form_url=""):
        """Staff never choose a user's password: the user resets it from the email link."""
        raise PermissionDenied

    # --- changelist columns -----------------------------------------------------------------
    @admin.display(boolean=True, description=_("email verified"), ordering="has_verified_email")
    def email_verified(self, user: User) -> bool:
        return user.has_verified_email

    @admin.display(boolean=True, description=_("2FA"), ordering="has_two_factor")
    def two_factor(self, user: User) -> bool:
        return user.has_two_factor

    @admin.display(boolean=True, description=_("locked out"), ordering="is_locked_out")
    def locked_out(self, user: User) -> bool:
        return user.is_locked_out

    @admin.display(description=_("roles"))
    def roles(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all())) or "trader"

    # --- change page ---------------------------------------------------------------------------
    @admin.display(description=_("email verified"))
    def email_verified_state(self, user: User) -> str:
        return _("Yes") if user.has_verified_email else _("No: sign-in works, trading and exchanges wait")

    @admin.display(description=_("two-factor authentication"))
    def two_factor_state(self, user: User) -> str:
        summary = two_factor_summary(user)
        if not summary["enabled"]:
            return _("Off")
        parts = [_("authenticator app")] if summary["totp"] else []
        if summary["sms"]:
            parts.append(_("phone %(number)s") % {"number": summary["sms"]})
        return _("On: %(factors)s; %(count)s recovery codes left") % {
            "factors": ", ".join(str(part) for part in parts),
            "count": summary["recovery_codes_remaining"],
        }

    @admin.display(description=_("login lockout"))
    def lockout_state(self, user: User) -> str:
        locks = list(lockout_attempts().filter(username=user.email).order_by("-attempt_time"))
        if not locks:
            return _attempts_link(user.email, _("Not locked out (see sign-in attempts)"))
        addresses = format_html_join(", ", "{}", ((lock.ip_address,) for lock in locks))
        return format_html(
            "{} {} — {}. {}",
            _("Locked out from"),
            addresses,
            _("use the “Clear login lockout” action on the user list"),
            _attempts_link(user.email, _("See sign-in attempts")),
        )

    # --- actions --------------------------------------------------------------------------------
    @admin.action(description=_("Clear login lockout"), permissions=["change"])
    def clear_lockout(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Lets the selected users sign in again from the locked addresses (audited)."""
        actor = page_actor(request)
        cleared_users = 0
        for user in queryset:
            if lockout_clear(actor=actor, user=user):
                cleared_users += 1
        self.message_user(
            request,
            _("Cleared the login lockout of %(count)s user(s).") % {"count": cleared_users},
            messages.SUCCESS if cleared_users else messages.INFO,
        )

    def _assign(self, request: HttpRequest, queryset: QuerySet[User], role: str) -> None:
        actor, assigned = page_actor(request), 0
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, _("Another admin changes your own role."), messages.WARNING)
        for user in queryset.exclude(pk=request.user.pk):
            try:
                role_assign(actor=actor, user=user, role=role)
                assigned += 1
            except DomainError as exc:
                self.message_user(request, f"{user.email}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(count)s user(s) are now %(role)s.") % {"count": assigned, "role": role})

    @admin.action(description=_("Make trader (no admin access)"), permissions=["change"])
    def make_trader(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._assign(request, queryset, TRADER)

    @admin.action(description=_("Make support (reads the admin, changes nothing)"), permissions=["change"])
    def make_support(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._assign(request, queryset, SUPPORT)

    @admin.action(description=_("Make admin (every permission)"), permissions=["change"])
    def make_admin(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._assign(request, queryset, ADMIN)

    @admin.action(description=_("Delete accounts (anonymise; the audit log keeps them)"), permissions=["anonymise"])
    def delete_accounts(self, request: HttpRequest, queryset: QuerySet[User]):
        """Asks once, naming every account, before anonymising them (it cannot be undone)."""
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Delete these accounts?"),
                "opts": self.model._meta,
                "accounts": queryset.exclude(pk=request.user.pk).filter(anonymised_at__isnull=True),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/accounts/user/delete_accounts_confirm.html", context)
        actor, deleted = page_actor(request), 0
        for user in queryset.exclude(pk=request.user.pk).filter(anonymised_at__isnull=True):
            account_delete(actor=actor, user=user)
            deleted += 1
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, _("Your own account is deleted from its Your data page."), messages.WARNING)
        self.message_user(request, _("Deleted (anonymised) %(count)s account(s).") % {"count": deleted})


@admin.register(ApiKey)
class ApiKeyAdmin(StaffGateAdminMixin, admin.ModelAdmin):
    """Keys by owner and prefix; the digest stays out. Revoking is the one action (audited)."""

    list_display = ["name", "user", "prefix", "scopes", "last_used_at", "last_used_ip", "expires_at", "revoked_at"]
    list_select_related = ["user"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "prefix", "user__email"]
    fields = [
        "user",
        "name",
        "prefix",
        "scopes",
        "allowed_ips",
        "expires_at",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created by their owner, after a step-up

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoked keys stay, as evidence of what they did

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_apikey")

    @admin.action(description=_("Revoke selected API keys"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        actor, revoked = page_actor(request), 0
        for key in queryset.filter(revoked_at__isnull=True).select_related("user"):
            api_key_revoke(actor=actor, key=key)
            revoked += 1
        self.message_user(request, _("Revoked %(count)s API key(s).") % {"count": revoked}, messages.SUCCESS)


class _ReadOnlyDeviceAdmin(StaffGateAdminMixin, admin.ModelAdmin):
    """Second factors are shown, never their seeds or digests, and change only through the user's
    own security page (which audits and signs other sessions out)."""

    list_select_related = ["user"]
    search_fields = ["user__email", "name"]
    list_filter = ["confirmed"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(_ReadOnlyDeviceAdmin):
    list_display = ["user", "name", "confirmed"]
    fields = ["user", "name", "confirmed"]


@admin.register(SMSDevice)
class SMSDeviceAdmin(_ReadOnlyDeviceAdmin):
    list_display = ["user", "name", "masked_number", "confirmed"]
    fields = ["user", "name", "masked_number", "confirmed"]

    @admin.display(description=_("phone"))
    def masked_number(self, device: SMSDevice) -> str:
        return device.masked_number


@admin.register(RecoveryCodeDevice)
class RecoveryCodeDeviceAdmin(_ReadOnlyDeviceAdmin):
    list_display = ["user", "confirmed", "codes_left"]
    fields = ["user", "confirmed", "codes_left"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(unused=Count("codes", filter=Q(codes__used_at__isnull=True)))

    @admin.display(description=_("codes left"), ordering="unused")
    def codes_left(self, device: RecoveryCodeDevice) -> int:
        return device.unused


# --- third-party admins, made safe ------------------------------------------------------------------
# Each of these would otherwise be a door around the audited services: an email address added
# and marked verified by staff takes over the account through a password reset; deleting lockout
# rows lifts a lockout without `lockout_clear`; deleting a blacklisted token revives it; editing a
# role group changes every member's permissions. They are read-only; roles come from roles_sync.
for _model in (
    UserSession,
    OutstandingToken,
    BlacklistedToken,
    EmailAddress,
    AccessAttempt,
    AccessLog,
    AccessFailureLog,
):
    admin.site.unregister(_model)
admin.site.unregister(Group)


@admin.register(UserSession)
class UserSessionAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, AllauthUserSessionAdmin):
    """allauth's, searchable by email (it searched a username we do not have), read-only."""

    list_select_related = ["user"]
    search_fields = ["user__email", "ip"]
    fields = ["user", "ip", "user_agent", "created_at", "last_seen_at"]
    readonly_fields = fields


@admin.register(OutstandingToken)
class RefreshTokenAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, OutstandingTokenAdmin):
    """simplejwt's, without the token itself: a refresh token shown is a refresh token stolen."""

    fields = ["jti", "user", "created_at", "expires_at"]
    readonly_fields = fields
    search_fields = ["user__email", "jti"]


@admin.register(BlacklistedToken)
class RevokedTokenAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, BlacklistedTokenAdmin):
    owner_field = "token__user"
    fields = ["token_jti", "token_user", "blacklisted_at"]
    readonly_fields = fields
    search_fields = ["token__user__email", "token__jti"]


@admin.register(EmailAddress)
class EmailAddressAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, AllauthEmailAddressAdmin):
    """Addresses and whether they are verified; only their owner changes them, by verifying."""

    readonly_fields = ["user", "email", "verified", "primary"]


@admin.register(AccessAttempt)
class AccessAttemptAdmin(ReadOnlyAdminMixin, AxesAccessAttemptAdmin):
    """Sign-in attempts; a lockout is lifted with the user list's "Clear login lockout" (audited)."""


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, AxesAccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(ReadOnlyAdminMixin, AxesAccessFailureLogAdmin):
    pass


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdminMixin, DjangoGroupAdmin):
    """The roles (trader, support, admin) are declared in accounts.services.roles and installed by
    `manage.py roles_sync`; a user's role changes through the user list's audited actions."""


class NotificationDeliveryInline(admin.TabularInline):
    model = NotificationDelivery
    fields = ["channel", "status", "attempts", "last_error", "created_at", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """What users were told, for support; written only by accounts.notify (payloads never hold secrets)."""

    list_display = ["created_at", "user", "event", "priority", "title", "read_at"]
    list_select_related = ["user"]
    list_filter = ["priority", "category", "event", ("read_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["user__email", "title"]
    date_hierarchy = "created_at"
    fields = ["user", "event", "category", "priority", "title", "body", "link", "payload", "created_at", "read_at"]
    readonly_fields = fields
    inlines = [NotificationDeliveryInline]


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each channel's delivery: failed ones say why (no secret), for support."""

    owner_field = "notification__user"
    list_display = ["created_at", "user", "event", "channel", "status", "attempts", "last_error", "sent_at"]
    list_select_related = ["notification__user"]
    list_filter = ["channel", "status", "notification__priority", "notification__event"]
    search_fields = ["notification__user__email"]
    fields = [
        "notification",
        "channel",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "claimed_at",
        "retry_at",
        "sent_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("user"), ordering="notification__user__email")
    def user(self, delivery: NotificationDelivery) -> str:
        return delivery.notification.user.email

    @admin.display(description=_("event"), ordering="notification__event")
    def event(self, delivery: NotificationDelivery) -> str:
        return delivery.notification.event
