"""Re-test exchange connections now, as the health job does, for operators (with progress).

    manage.py check_connections                       # every active connection
    manage.py check_connections --user someone@example.com --exchange binance
    manage.py check_connections --connection 7 --connection 9 --fail-on-error

The exit status is 0 even when an exchange refused a key: a failing key is the owner's to fix
and is already recorded, audited and notified, so a cron run would otherwise page an operator
for every trader's expired key. `--fail-on-error` exits 1 when any check failed (for scripts that
check one connection). Lines name the connection by nickname, exchange, id and key hint only.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from cryptovault.actor import Actor
from exchanges.catalogue import exchange_spec
from exchanges.errors import UnknownExchange
from exchanges.models import ExchangeConnection
from exchanges.probe import ProbeResult
from exchanges.services.health import connections_health_check


class Command(BaseCommand):
    help = "Test the stored keys of active exchange connections now: status, latency, notifications on change."

    def add_arguments(self, parser):
        parser.add_argument("--user", metavar="EMAIL", help="Only this user's connections.")
        parser.add_argument("--exchange", metavar="ID", help="Only connections to this exchange (e.g. binance).")
        parser.add_argument(
            "--connection", metavar="ID", type=int, action="append", default=[], help="Only this connection (repeat)."
        )
        parser.add_argument("--fail-on-error", action="store_true", help="Exit with status 1 when any check failed.")

    def handle(self, *args, user=None, exchange=None, connection=(), fail_on_error=False, **options):
        connections = self._selected(email=user, exchange=exchange, ids=list(connection))
        if not connections:
            self.stdout.write("No active connections to check.")
            return
        before = {c.pk: c.status for c in connections}
        width = len(str(len(connections)))

        def progress(index: int, total: int, conn: ExchangeConnection, result: ProbeResult) -> None:
            outcome = f"ok {result.latency_ms} ms" if result.ok else str(result.code)
            change = f" ({before[conn.pk]} → {conn.status})" if conn.status != before[conn.pk] else ""
            sandbox = " sandbox" if conn.sandbox else ""
            line = (
                f"[{index:>{width}}/{total}] {conn.nickname} ({conn.exchange}{sandbox}, #{conn.pk}): {outcome}{change}"
            )
            self.stdout.write(line if result.ok else self.style.WARNING(line))

        summary = connections_health_check(
            actor=Actor.for_command("check_connections"), connections=connections, on_progress=progress
        )
        skipped = len(connections) - summary.checked
        self.stdout.write(
            f"Checked {summary.checked} connection(s): {summary.ok} ok, {summary.failed} failed, "
            f"{len(summary.status_changes)} status change(s)"
            + (f", {skipped} revoked meanwhile and skipped." if skipped else ".")
        )
        for change in summary.status_changes:
            self.stdout.write(f"  {change}")
        for name in summary.unreadable:
            self.stderr.write(
                f"  {name}: the stored keys do not decrypt with FIELD_ENCRYPTION_KEYS (a key was dropped too early)."
            )
        if summary.failed and fail_on_error:
            raise CommandError(f"{summary.failed} check(s) failed.")
        if summary.failed:
            self.stdout.write("Some checks failed; their owners were notified. Exit status 0 (see --fail-on-error).")
        else:
            self.stdout.write(self.style.SUCCESS("Every checked connection is healthy."))

    def _selected(self, *, email: str | None, exchange: str | None, ids: list[int]) -> list[ExchangeConnection]:
        connections = ExchangeConnection.objects.all()
        if email:
            owner = User.objects.filter(email=User.objects.normalize_email(email)).first()
            if owner is None:
                raise CommandError(f"No user with the email {email!r}.")
            connections = ExchangeConnection.objects.visible_to(owner)
        connections = connections.active().select_related("user").order_by("pk")
        if exchange:
            try:
                connections = connections.filter(exchange=exchange_spec(exchange).id)
            except UnknownExchange as exc:
                raise CommandError(exc.message) from exc
        if ids:
            connections = connections.filter(pk__in=ids)
        selected = list(connections)
        missing = sorted(set(ids) - {c.pk for c in selected})
        if missing:
            listed = ", ".join(f"#{pk}" for pk in missing)
            self.stdout.write(
                self.style.WARNING(f"Not checked (no active connection with this id among those selected): {listed}")
            )
        return selected
