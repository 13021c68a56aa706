"""Check every ledger invariant and report any drift (`trading.ledger_check` lists them).

    manage.py verify_ledger                  # every account
    manage.py verify_ledger --account 7 --account 9
    manage.py verify_ledger --max-drifts 50  # print at most 50 drift lines per check

Each check prints one line as it finishes ("OK" with what it read, or "DRIFT" and a line per
problem naming the account, the asset or order and both numbers). The exit status is 1 when any
drift was found, so a cron job or CI step fails loudly; it only reads, so it is safe on a live
database at any time.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from trading.ledger_check import CHECKS, SQLITE_SIGNIFICANT_DIGITS, CheckResult, check_ledger, exact
from trading.models import TradingAccount


class Command(BaseCommand):
    help = "Check the trading ledger's invariants (balances = sum of entries, locks, fills); exit 1 on drift."

    def add_arguments(self, parser):
        parser.add_argument(
            "--account", metavar="ID", type=int, action="append", default=[], help="Only this account (repeat)."
        )
        parser.add_argument("--max-drifts", type=int, default=100, help="Drift lines printed per check (default 100).")

    def handle(self, *args, account=(), max_drifts=100, **options):
        ids = list(account) or None
        if ids is not None:
            missing = set(ids) - set(TradingAccount.objects.filter(pk__in=ids).values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No trading account with id {', '.join(map(str, sorted(missing)))}.")
        scope = f"{len(ids)} account(s)" if ids else f"all {TradingAccount.objects.count()} account(s)"
        self.stdout.write(f"Verifying the ledger of {scope}: {len(CHECKS)} checks.")
        if not exact():
            self.stdout.write(
                f"This database (SQLite) stores decimals as floats: amounts are compared to "
                f"{SQLITE_SIGNIFICANT_DIGITS} significant digits. PostgreSQL is compared exactly."
            )
        total = len(CHECKS)
        done = [0]

        def progress(result: CheckResult) -> None:
            done[0] += 1
            head = f"[{done[0]}/{total}] {result.name}: {result.description} ({result.checked} checked)"
            if result.ok:
                self.stdout.write(f"{head}: " + self.style.SUCCESS("OK"))
                return
            self.stdout.write(f"{head}: " + self.style.ERROR(f"DRIFT ({len(result.drifts)})"))
            for drift in result.drifts[:max_drifts]:
                self.stdout.write(f"  {drift}")
            if len(result.drifts) > max_drifts:
                self.stdout.write(f"  ... and {len(result.drifts) - max_drifts} more")

        report = check_ledger(account_ids=ids, progress=progress)
        if report.ok:
            self.stdout.write(self.style.SUCCESS("Ledger OK: no drift."))
            return
        raise CommandError(f"Ledger drift: {len(report.drifts)} problem(s) found.", returncode=1)
