"""Run the whole app locally: migrate, seed the demo, then web + Celery worker + beat.

This is what ``make run`` calls. With no REDIS_URL, settings have already started an
embedded Redis in this process; its URL is handed to the children so that the web
server, the worker and beat share one broker, cache and channel layer. Ctrl-C stops
everything (honcho forwards the signal and waits for each process).
"""

from __future__ import annotations

import os
import shlex
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from honcho.manager import Manager
from honcho.printer import Printer


class Command(BaseCommand):
    help = "Run web (ASGI: HTTP and websockets), a Celery worker and beat together, after migrating."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--reload", action="store_true", help="Restart the web server when code changes.")
        parser.add_argument("--no-seed", action="store_true", help="Skip the demo data.")

    def handle(self, *args, host: str, port: int, reload: bool, no_seed: bool, **options):
        steps = [
            ("Migrating the database", lambda: call_command("migrate", interactive=False, verbosity=0)),
            ("Creating the roles (trader, support, admin)", lambda: call_command("roles_sync", verbosity=0)),
        ]
        if not no_seed:
            steps.append(("Loading demo data", lambda: call_command("seed_demo")))
        steps.append(("Installing the beat schedule", lambda: call_command("install_beat_schedule")))
        for number, (title, step) in enumerate(steps, start=1):
            self.stdout.write(self.style.MIGRATE_HEADING(f"[{number}/{len(steps)}] {title}"))
            step()

        env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "PYTHONUNBUFFERED": "1"}
        python = sys.executable
        web = [
            python,
            "-m",
            "uvicorn",
            "cryptovault.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--ws",
            "websockets-sansio",
            "--lifespan",
            "off",
        ]
        if reload:
            web += ["--reload", "--reload-dir", str(settings.BASE_DIR)]
        worker = [python, "-m", "celery", "-A", "cryptovault", "worker", "--loglevel", "INFO", "--concurrency", "2"]
        beat = [python, "-m", "celery", "-A", "cryptovault", "beat", "--loglevel", "INFO"]

        redis_note = "embedded Redis" if settings.EMBEDDED_REDIS else "Redis"
        self.stdout.write(
            self.style.SUCCESS(
                f"CryptoVault on http://{host}:{port}/ ({redis_note} at {settings.REDIS_URL}). Ctrl-C stops it all."
            )
        )
        manager = Manager(printer=Printer(sys.stdout))
        for name, command in (("web", web), ("worker", worker), ("beat", beat)):
            manager.add_process(name, shlex.join(command), env=env, cwd=str(settings.BASE_DIR))
        manager.loop()
        sys.exit(manager.returncode)
