"""The audit log's actions are one enumerated list (security/actions.py): recording anything else is a
programming error, the source cannot hold an `audit_record("...")` the list lacks, and people read the
list's labels on the activity page and in the admin's filter."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings

from cryptovault.actor import Actor
from security.actions import AUDIT_ACTIONS, UnknownAuditAction
from security.audit import audit_record
from security.models import AuditEvent
from security.selectors import ACTION_LABELS

ROOT = Path(settings.BASE_DIR)
SKIPPED_DIRS = {".venv", "node_modules", "migrations", ".git", "var", "tests"}

# What the issue names as sensitive, and the action that records it.
REQUIRED = {
    "sign-in succeeded": "auth.signed_in",
    "sign-in failed": "auth.sign_in_failed",
    "signed out": "auth.signed_out",
    "locked out": "auth.locked_out",
    "authenticator app turned on": "2fa.totp_enabled",
    "phone turned on as a second factor": "2fa.phone_verified",
    "2FA turned off": "2fa.disabled",
    "a second factor or recovery code used": "2fa.code_accepted",
    "password changed or reset": "auth.password_changed",
    "API key created": "api_key.created",
    "API key revoked": "api_key.revoked",
    "exchange connected": "exchange.connected",
    "exchange keys rotated": "exchange.rotated",
    "exchange connection revoked": "exchange.revoked",
    "order placed": "order.placed",
    "order cancelled": "order.cancelled",
    "withdrawal requested": "withdrawal.requested",
    "withdrawal completed": "withdrawal.completed",
    "withdrawal cancelled": "withdrawal.cancelled",
    "withdrawal address added": "withdrawal_address.added",
    "withdrawal address removed": "withdrawal_address.removed",
    "whitelist-only mode switched": "whitelist.mode_changed",
    "IP allowlist entry added": "security.ip_allowlist_added",
    "IP allowlist entry removed": "security.ip_allowlist_removed",
    "refused from outside the allowlist": "security.ip_refused",
    "anti-phishing code changed": "security.anti_phishing_changed",
    "backup created": "backup.created",
    "backup restored": "backup.restored",
    "role changed": "account.role_assigned",
}


def _source_files() -> list[Path]:
    """The app's .py files; skipped folders are never entered (.venv alone holds tens of thousands)."""
    found = []
    for folder, subfolders, files in ROOT.walk():
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_DIRS]
        found += [folder / name for name in files if name.endswith(".py") and name != "conftest.py"]
    return found


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def recorded_actions() -> tuple[dict[str, list[str]], list[str]]:
    """Every action the app code records, with where; and the calls whose action could not be read.

    `audit_record(action, ...)` with a literal counts directly. With a parameter of the enclosing
    function (`def _changed(actor, user, action): audit_record(action, ...)`), the literals passed to
    that function in the same module count instead; anything else cannot be checked and is listed.
    """
    found: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for path in _source_files():
        source = path.read_text()
        if "audit_record" not in source:  # no call to read (and helpers are matched within one module)
            continue
        tree = ast.parse(source, filename=str(path))
        where = str(path.relative_to(ROOT))
        nodes = list(ast.walk(tree))
        functions = [node for node in nodes if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        calls = [node for node in nodes if isinstance(node, ast.Call)]
        for call in calls:
            if _called(call) != "audit_record" or not call.args:
                continue
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, []).append(f"{where}:{call.lineno}")
                continue
            helper = next(
                (
                    function
                    for function in functions
                    if function.lineno <= call.lineno <= (function.end_lineno or 0)
                    and isinstance(first, ast.Name)
                    and first.id in [argument.arg for argument in function.args.args]
                ),
                None,
            )
            if helper is None:
                unreadable.append(f"{where}:{call.lineno}")
                continue
            position = [argument.arg for argument in helper.args.args].index(first.id)
            uses = [other for other in calls if _called(other) == helper.name]
            for use in uses:
                value = _argument(use, position, first.id)
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.setdefault(value.value, []).append(f"{where}:{use.lineno}")
                else:
                    unreadable.append(f"{where}:{use.lineno}")
            if not uses:
                unreadable.append(f"{where}:{call.lineno}")
    return found, unreadable


def test_every_action_the_code_records_is_registered_with_a_label():
    found, unreadable = recorded_actions()
    assert len(found) >= 50, "the scan finds the app's audit_record calls"
    missing = {action: where for action, where in found.items() if action not in AUDIT_ACTIONS}
    assert not missing, f"add these to security/actions.py AUDIT_ACTIONS: {missing}"
    assert not unreadable, f"audit_record's action must be a literal (or a literal passed to a helper): {unreadable}"


def test_the_scan_would_notice_an_unregistered_literal(tmp_path, monkeypatch):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "services.py").write_text(
        "def thing(actor):\n    audit_record('thing.done', actor=actor)\n"
        "def _changed(actor, action):\n    audit_record(action, actor=actor)\n"
        "def other(actor):\n    _changed(actor, 'thing.changed')\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    found, unreadable = recorded_actions()
    assert set(found) == {"thing.done", "thing.changed"}
    assert unreadable == []


def test_everything_the_issue_calls_sensitive_is_registered_and_recorded_somewhere():
    found, _ = recorded_actions()
    not_registered = {what: code for what, code in REQUIRED.items() if code not in AUDIT_ACTIONS}
    never_recorded = {what: code for what, code in REQUIRED.items() if code not in found}
    assert not not_registered
    assert not never_recorded, f"no service records these: {never_recorded}"


def test_codes_are_subject_dot_event_and_labels_are_distinct_words():
    for code, label in AUDIT_ACTIONS.items():
        assert re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", code), code
        assert label and label[0].isupper() and label != code, code
    labels = list(AUDIT_ACTIONS.values())
    assert len(set(labels)) == len(labels), "two actions with one label could not be told apart in a filter"


def test_the_labels_the_pages_read_are_the_registry():
    assert ACTION_LABELS is AUDIT_ACTIONS
    assert ACTION_LABELS["security.anti_phishing_changed"] == "Anti-phishing code changed"


@pytest.mark.django_db
def test_recording_an_unregistered_action_is_refused_and_writes_nothing(owner):
    with pytest.raises(UnknownAuditAction, match="not registered"):
        audit_record("order.teleported", actor=Actor(user=owner, via="page"))
    with pytest.raises(ValueError):  # a programming error, a ValueError to whoever catches those
        audit_record("", actor=Actor(user=owner, via="page"))
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_detail_may_be_called_action(owner):
    """An IP refusal records which action it refused: `action` is audit_record's positional argument."""
    event = audit_record("security.ip_refused", actor=Actor(user=owner, via="api"), outcome="refused", action="order")
    assert event.action == "security.ip_refused"
    assert event.details == {"action": "order"}


def test_the_activity_page_shows_labels(owner_client, owner, record):
    record(owner, "backup.restored")
    record(owner, "security.anti_phishing_changed", change="set")

    page = owner_client.get("/security/activity/").content.decode()

    assert "Backup restored" in page
    assert "Anti-phishing code changed" in page
    assert "security.anti_phishing_changed" not in page.split("<tbody>")[1], "the row shows words, not the code"


def test_the_admin_filters_by_action_label(record, owner, staff_client):
    record(owner, "auth.signed_in")
    record(owner, "withdrawal_address.added", label="Cold wallet")

    page = staff_client.get("/admin/security/auditevent/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Withdrawal address added" in html and "Signed in" in html
    assert "?action=withdrawal_address.added" in html, "the filter links by code, shows the label"

    only = staff_client.get("/admin/security/auditevent/?action=withdrawal_address.added")
    assert list(only.context["cl"].result_list.values_list("action", flat=True)) == ["withdrawal_address.added"]
