"""Create the demo trader and demo admin for local use, the trader's demo exchange connection when an
exchange emulator answers (`make run` starts one), and the trader's paper account with a few filled
and open orders (placed through the trading services). Safe to run again."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services.demo import demo_user_ensure
from cryptovault.actor import Actor
from exchanges.demo import demo_connection_ensure
from trading.demo import demo_trading_ensure

DEMO_ACCOUNTS = [
    {"email": "demo@cryptovault.local", "password": "demo-trader-2026", "name": "Demo Trader", "is_staff": False},
    {"email": "admin@cryptovault.local", "password": "demo-admin-2026", "name": "Demo Admin", "is_staff": True},
]


class Command(BaseCommand):
    help = "Create the demo trader and demo admin (local use only; refused with DEBUG off)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (never in production).")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with published passwords; refused with DEBUG off.")
        actor = Actor.for_command("seed_demo")
        steps = len(DEMO_ACCOUNTS) + (1 if settings.EXCHANGE_API_URLS else 0) + 1
        trader = None
        for number, account in enumerate(DEMO_ACCOUNTS, start=1):
            user, created = demo_user_ensure(actor=actor, **account)
            trader = trader or (user if not user.is_staff else None)
            state = "created" if created else "already there"
            self.stdout.write(f"[{number}/{steps}] {user.email}: {state}")
        if settings.EXCHANGE_API_URLS and trader is not None:
            _connection, line = demo_connection_ensure(actor=actor, user=trader)
            self.stdout.write(f"[{steps - 1}/{steps}] {line}")
        if trader is not None:
            _account, line = demo_trading_ensure(actor=actor, user=trader)
            self.stdout.write(f"[{steps}/{steps}] {line}")
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in as demo@cryptovault.local / demo-trader-2026."))
