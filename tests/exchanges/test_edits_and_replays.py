"""What an independent probe of the running server found, each fixed with the test that shows it:
a rename onto a taken nickname, an edit racing a revoke, a sandbox that does not exist. (The replayed wizard save is
test_pages.py's, the oversized body tests/cryptovault/test_shared_plumbing.py's.)"""

from __future__ import annotations

import pytest

from exchanges.errors import ConnectionRevoked
from exchanges.models import ExchangeConnection
from exchanges.services.connections import connection_revoke, connection_update
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db


def test_renaming_onto_a_taken_nickname_in_any_case_is_a_field_error_on_page_and_api(
    owner, owner_client, owner_jwt, emulated_exchanges, binance_keys
):
    connect(owner, binance_keys, nickname="Binance demo")
    other = connect(owner, binance_keys, nickname="Second")
    answer = owner_jwt.patch(f"/api/v1/connections/{other.pk}/", {"nickname": "binance DEMO"}, format="json")
    assert answer.status_code == 400 and "nickname" in answer.json()["errors"]
    page = owner_client.post(f"/exchanges/{other.pk}/edit/", {"nickname": "Binance demo", "features": ["wallet"]})
    assert page.status_code == 200 and "already have a connection with this nickname" in page.content.decode()
    other.refresh_from_db()
    assert other.nickname == "Second"


def test_an_edit_arriving_after_a_revoke_is_refused_not_applied(owner, emulated_exchanges, binance_keys):
    seen_by_the_edit = connect(owner, binance_keys)
    connection_revoke(actor=TEST_ACTOR, connection=ExchangeConnection.objects.get(pk=seen_by_the_edit.pk))
    with pytest.raises(ConnectionRevoked):
        connection_update(actor=TEST_ACTOR, connection=seen_by_the_edit, nickname="Renamed")
    assert ExchangeConnection.objects.get(pk=seen_by_the_edit.pk).nickname == "Main"


def test_a_sandbox_the_exchange_does_not_have_is_refused_not_quietly_live(owner_jwt, emulated_exchanges, kucoin_keys):
    body = {"exchange": "kucoin", "nickname": "Test", "sandbox": True, **kucoin_keys}
    for path in ("/api/v1/connections/test/", "/api/v1/connections/"):
        answer = owner_jwt.post(path, body, format="json")
        assert answer.status_code == 400 and "sandbox" in answer.json()["errors"], answer.content
    assert not ExchangeConnection.objects.exists()
    assert not emulated_exchanges.calls("kucoin"), "refused before reaching the exchange"
