"""Amounts are typed as plain decimals: other scripts' digits, underscores and numbers beyond what the
ledger holds are explained on the field (ticket) or answered 400 (API), never read or a 500."""

from __future__ import annotations

import pytest

from tests.trading.helpers import paper_account, publish
from trading.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def paper(owner):
    publish({"BTC/USDT": "65000"})
    return paper_account(owner)


def ticket(account, **changes) -> dict:
    form = {"account": account.pk, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "0.01"}
    return {**form, "price": "60000", "time_in_force": "gtc", "step": "review", **changes}


UNTAKEABLE = ["\u0660.\u0660\u0661", "0_01", "\uff10.\uff10\uff11", "1e400", "1e30", "0.0000000000000000001"]


@pytest.mark.parametrize("typed", UNTAKEABLE)
def test_the_ticket_explains_an_amount_it_cannot_take_on_the_field_and_keeps_the_form(owner_client, paper, typed):
    answer = owner_client.post("/trade/", ticket(paper, quantity=typed))

    assert answer.status_code == 200
    assert answer.context["form"].errors["quantity"]
    assert typed in answer.content.decode(), "what was typed stays in the field"
    assert not Order.objects.exists()


@pytest.mark.parametrize("field", ["price", "quantity"])
def test_the_ticket_review_of_a_huge_but_storable_amount_is_not_a_500(owner_client, paper, field):
    answer = owner_client.post("/trade/", ticket(paper, **{field: "99999999999999999999"}))

    assert answer.status_code == 200


@pytest.mark.parametrize("typed", ["\u0660.\u0660\u0660\u0661", "0_001", "\uff10.\uff10\uff10\uff11", " 0.001x"])
def test_the_api_refuses_an_amount_not_written_with_ascii_digits(owner_jwt, paper, typed):
    answer = owner_jwt.post(
        "/api/v1/orders/",
        {"account": paper.pk, "symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": typed},
        format="json",
    )

    assert answer.status_code == 400
    assert "digits 0-9" in answer.json()["errors"]["quantity"][0]
    assert not Order.objects.exists()
