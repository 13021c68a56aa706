"""Tasks only the test worker loads (`--include`), to prove what the worker process sees."""

from celery import shared_task


@shared_task(name="tests.user_emails")
def user_emails() -> list[str]:
    """The users in the worker's database: the test database, or the test saw other data."""
    from accounts.models import User

    return sorted(User.objects.values_list("email", flat=True))
