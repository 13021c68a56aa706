"""Placing orders is limited to RATE_LIMITS["orders"] (20 a minute) per user, not per address: the
21st order in a minute answers 429 with the rate-limit headers, whichever credential the user sends,
while another user on the same address keeps placing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, publish
from trading.models import Order

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/"
LIMIT = 20
# Far below the market: it rests, reserving 10 USDT and a little fee each.
RESTING_BUY = {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "0.001", "price": "10000"}


@pytest.fixture(autouse=True)
def prices():
    publish({"BTC/USDT": "65000"})


def place(client: APIClient, n: int):
    return client.post(ORDERS, {**RESTING_BUY, "client_order_id": f"o-{n}"}, format="json")


def test_the_21st_order_in_a_minute_is_refused_with_the_headers_and_another_user_is_unaffected(
    owner_jwt, owner, outsider_jwt, outsider
):
    paper_account(owner), paper_account(outsider)

    answers = [place(owner_jwt, n) for n in range(LIMIT + 1)]

    assert [answer.status_code for answer in answers] == [201] * LIMIT + [429]
    assert [answer["X-RateLimit-Remaining"] for answer in answers[:3]] == ["19", "18", "17"]
    refused = answers[-1]
    assert refused.json()["code"] == "rate_limited"
    assert "at most 20 per minute" in refused.json()["detail"]
    assert refused["X-RateLimit-Limit"] == "20" and refused["X-RateLimit-Remaining"] == "0"
    assert refused["X-RateLimit-Policy"] == "20;w=60"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert int(refused["Retry-After"]) == int(refused["X-RateLimit-Reset"])
    assert Order.objects.filter(user=owner).count() == LIMIT, "the refused order was not placed"

    theirs = place(outsider_jwt, 0)
    assert theirs.status_code == 201, "the limit is the owner's, not the address's"
    assert theirs["X-RateLimit-Remaining"] == str(LIMIT - 1)


def test_the_limit_is_the_users_whichever_credential_places(owner_jwt, owner):
    paper_account(owner)
    _, raw = api_key_create(actor=TEST_ACTOR, user=owner, name="Bot", scopes=["read", "trade"])
    bot = APIClient(REMOTE_ADDR="198.51.100.7")  # another machine, too
    bot.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert all(place(owner_jwt, n).status_code == 201 for n in range(LIMIT // 2))
    assert all(place(bot, n).status_code == 201 for n in range(LIMIT // 2, LIMIT))

    assert place(bot, LIMIT).status_code == 429
    assert place(owner_jwt, LIMIT + 1).status_code == 429


def test_reading_and_cancelling_do_not_count_against_placing(owner_jwt, owner):
    paper_account(owner)
    placed = place(owner_jwt, 0).json()
    for _ in range(LIMIT + 5):
        assert owner_jwt.get(ORDERS).status_code == 200
    assert owner_jwt.post(f"{ORDERS}{placed['id']}/cancel/").status_code == 200

    assert place(owner_jwt, 1)["X-RateLimit-Remaining"] == str(LIMIT - 2), "only the two placements counted"


def test_the_limit_follows_the_setting(owner_jwt, owner, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "orders": "2/m"}
    paper_account(owner)

    assert [place(owner_jwt, n).status_code for n in range(3)] == [201, 201, 429]
