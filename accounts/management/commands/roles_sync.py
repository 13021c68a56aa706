"""Create or refresh the trader, support and admin groups; optionally give someone a role.

Run at every deploy (new models bring new permissions for the admin group):
    manage.py roles_sync
    manage.py roles_sync --assign someone@example.com support
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services.roles import ROLES, role_assign, roles_ensure
from cryptovault.actor import Actor


class Command(BaseCommand):
    help = "Create or refresh the roles (trader, support, admin); --assign EMAIL ROLE gives a user a role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--assign",
            nargs=2,
            metavar=("EMAIL", "ROLE"),
            help=f"Give the user with this email one role ({', '.join(ROLES)}); it replaces their other role.",
        )

    def handle(self, *args, assign: list[str] | None = None, **options):
        if assign:
            email, role = assign
            if role not in ROLES:
                raise CommandError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
            user = User.objects.filter(email=User.objects.normalize_email(email)).first()
            if user is None:
                raise CommandError(f"No user with the email {email!r}.")
        counts = roles_ensure()
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} permission{'s' if count != 1 else ''}")
        if assign:
            role_assign(actor=Actor.for_command("roles_sync"), user=user, role=role)
            staff = "staff, may use the admin" if user.is_staff else "no admin access"
            self.stdout.write(self.style.SUCCESS(f"{user.email} is now {role} ({staff})."))
        else:
            self.stdout.write(self.style.SUCCESS("Roles are up to date."))
