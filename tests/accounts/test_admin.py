import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_staff_adding_an_existing_email_in_another_case_get_a_form_error(client, staff_user, owner):
    client.force_login(staff_user)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "Owner@Example.COM",
            "name": "Twin",
            "usable_password": "true",
            "password1": "a-Long-pass-2026",
            "password2": "a-Long-pass-2026",
        },
    )
    assert response.status_code == 200, "the form is shown again, not a redirect and not a 500"
    assert "User with this Email address already exists." in response.text
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1
    assert Client().post("/accounts/login/", {"login": "OWNER@example.com", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_an_email_staff_type_in_capitals_is_stored_lower_case_and_signs_in(client, staff_user):
    client.force_login(staff_user)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Trader@Example.com",
            "name": "New",
            "usable_password": "true",
            "password1": "a-Long-pass-2026",
            "password2": "a-Long-pass-2026",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(name="New").email == "new.trader@example.com"
    assert Client().login(email="NEW.TRADER@example.com", password="a-Long-pass-2026")
