import pytest
from django.core.management import CommandError, call_command

from accounts.models import User


@pytest.mark.django_db
def test_seed_demo_creates_the_readme_accounts_once(client, capsys, settings):
    settings.DEBUG = True  # the embedded default runs with DEBUG on; the test runner turns it off
    call_command("seed_demo")
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert "demo@cryptovault.local: created" in output and "demo@cryptovault.local: already there" in output
    assert User.objects.filter(email="demo@cryptovault.local").count() == 1
    signed_in = client.post("/accounts/login/", {"login": "demo@cryptovault.local", "password": "demo-trader-2026"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    admin = User.objects.get(email="admin@cryptovault.local")
    assert admin.is_staff and admin.is_superuser
    assert list(admin.groups.values_list("name", flat=True)) == ["admin"]
    assert not User.objects.get(email="demo@cryptovault.local").is_staff


@pytest.mark.django_db
def test_seed_demo_is_refused_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused with DEBUG off"):
        call_command("seed_demo")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_emails_are_unique_whatever_their_case():
    User.objects.create_user(email="Trader@Example.com", password="x" * 12)
    assert User.objects.get_by_natural_key("TRADER@example.COM").email == "trader@example.com"
    with pytest.raises(Exception, match="already exists"):
        User.objects.create_user(email="trader@EXAMPLE.com", password="x" * 12)
