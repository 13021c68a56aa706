"""The trader's exchange pages against the loopback emulator: the connect wizard, the cards and
their actions (edit, test now, rotate, revoke), the security panel and the guides.

Every page a test opens is recorded by `Browser`, and each test ends by checking that no key,
secret or passphrase it typed came back in any of them: pages show a key's last four characters
and nothing more.
"""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from cryptovault.actor import Actor
from exchanges.catalogue import exchange_spec
from exchanges.models import ExchangeConnection, Status
from exchanges.services.connections import connection_revoke
from tests.accounts.helpers import browser_signed_in_a_while_ago
from tests.exchanges.helpers import connect
from tests.fakes.authenticator import unused_totp_code, verify_email_of
from tests.helpers import text

STATE = re.compile(r'name="state" value="([^"]+)"')
CONNECT = "/exchanges/connect/"
TEST = "/exchanges/connect/test/"
REVIEW = "/exchanges/connect/review/"
SAVE = "/exchanges/connect/save/"


class Browser(Client):
    """A test client that keeps every page it was shown, to look for secrets in all of them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pages: list[str] = []

    def request(self, **request):
        response = super().request(**request)
        if not getattr(response, "streaming", False):
            self.pages.append(response.content.decode("utf-8", "replace"))
        return response

    def shows_none_of(self, *secrets: str) -> bool:
        assert self.pages, "no page was opened"
        return not [secret for secret in secrets for page in self.pages if secret in page]


def stepped_up(user) -> Browser:
    """The user's browser, signed in with a second factor given just now."""
    browser = Browser()
    browser.force_login(user)
    answer = browser.post("/accounts/step-up/", {"otp_code": unused_totp_code(user)})
    assert answer.status_code == 302, answer.content
    return browser


def words(response) -> str:
    """What the page says, without its markup."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def state_of(response) -> str:
    match = STATE.search(response.content.decode())
    assert match, "the page carries the wizard's state"
    return match.group(1)


def keys_form(exchange: str, keys: dict[str, str], **fields) -> dict:
    return {"exchange": exchange, "nickname": "Main", "features": ["trading", "wallet"], **keys, **fields}


@pytest.fixture
def trader(secured_owner) -> Browser:
    return stepped_up(secured_owner)


# --- the wizard -----------------------------------------------------------------------------------------
def test_the_wizard_with_good_keys_tests_reviews_saves_one_connection_and_shows_its_card(
    trader, secured_owner, emulated_exchanges, binance_keys
):
    choose = trader.get(CONNECT)
    assert choose.status_code == 200
    page = text(choose)
    assert 'aria-label="Connect an exchange, step 1 of 4"' in page
    for name in ("Binance", "Coinbase Advanced Trade", "Kraken", "KuCoin"):
        assert f"Connect {name}" in page
    assert 'href="/exchanges/guides/kucoin/"' in page and "Needed, with the key and secret" in page

    keys = trader.get(CONNECT, {"exchange": "binance"})
    page = text(keys)
    assert 'value="Binance"' in page, "the nickname starts as the exchange's name"
    assert 'type="password" name="api_key"' in page and 'type="password" name="secret"' in page
    assert 'name="passphrase"' not in page, "Binance keys have no passphrase"
    assert 'name="sandbox"' in page, "Binance has a testnet"

    tested = trader.post(TEST, keys_form("binance", binance_keys))
    assert tested.status_code == 200
    page = text(tested)
    assert "The test passed" in page and 'data-testid="test-code">ok<' in page
    assert f"…{binance_keys['api_key'][-4:]}" in page

    review = trader.post(REVIEW, {"state": state_of(tested)})
    page = text(review)
    assert "Review and confirm" in page and "Trading, Wallet (balances)" in page
    assert 'name="save_untested"' not in page, "nothing to override after a passing test"

    saved = trader.post(SAVE, {"state": state_of(review), "nickname": "Main"})
    connection = ExchangeConnection.objects.get(user=secured_owner)
    assert saved.status_code == 302 and saved["Location"] == f"/exchanges/#connection-{connection.pk}"
    assert (connection.nickname, connection.exchange, connection.status) == ("Main", "binance", Status.CONNECTED)
    assert connection.key_hint == binance_keys["api_key"][-4:]

    cards = trader.get("/exchanges/")
    page = text(cards)
    assert "Connected “Main” (Binance, key …" in page and "Test result ok" in page
    assert "This key works from any IP address" in page, "the key auditor speaks on connect"
    assert page.count('data-testid="connection-card"') == 1
    assert f'data-connection-id="{connection.pk}"' in page
    assert 'data-testid="connection-status">Connected<' in page
    assert 'data-testid="latency-chart"' in page and "Latency of the last 1 check" in page
    assert trader.shows_none_of(binance_keys["api_key"], binance_keys["secret"])


def test_a_wrong_secret_shows_invalid_credentials_at_the_test_and_saving_needs_the_override(
    trader, secured_owner, emulated_exchanges, binance_keys
):
    wrong = {**binance_keys, "secret": "not-the-secret-Qz81Lk2Mw"}
    tested = trader.post(TEST, keys_form("binance", wrong))
    page = text(tested)
    assert "The test failed" in page and 'data-testid="test-code">invalid_credentials<' in page
    assert "How to fix it: Copy the key and the secret again from the exchange" in words(tested), "the guide's fix"

    review = trader.post(REVIEW, {"state": state_of(tested)})
    assert "Save anyway, I know the test failed" in text(review)

    refused = trader.post(SAVE, {"state": state_of(review), "nickname": "Main"})
    assert refused.status_code == 200
    assert "The exchange rejected the key or secret" in text(refused)
    assert not ExchangeConnection.objects.exists()

    saved = trader.post(SAVE, {"state": state_of(refused), "nickname": "Main", "save_untested": "on"})
    assert saved.status_code == 302
    connection = ExchangeConnection.objects.get(user=secured_owner)
    assert connection.status == Status.ERROR and connection.last_error_code == "invalid_credentials"
    assert "Saved anyway, as you asked" in text(trader.get("/exchanges/"))
    assert trader.shows_none_of(binance_keys["api_key"], wrong["secret"], binance_keys["secret"])


@pytest.mark.parametrize(
    ("exchange", "overrides", "message"),
    [
        ("kucoin", {"passphrase": ""}, "Enter the passphrase."),
        ("binance", {"api_key": "K" * 300}, "The API key is longer than any exchange issues"),
        ("binance", {"secret": "abc\x07def\x1bghijklmn"}, "The API secret holds characters that cannot be part of it"),
        ("binance", {"api_key": ""}, "Enter the API key."),
    ],
    ids=["missing-passphrase", "over-long-key", "control-characters", "no-key"],
)
def test_bad_keys_are_form_errors_that_keep_what_was_typed_except_the_secrets(
    trader, emulated_exchanges, binance_keys, kucoin_keys, exchange, overrides, message
):
    keys = {**(kucoin_keys if exchange == "kucoin" else binance_keys), **overrides}
    answer = trader.post(TEST, keys_form(exchange, keys, nickname="My typed nickname", features=["paper"]))
    assert answer.status_code == 200
    page = text(answer)
    assert message in page
    assert 'value="My typed nickname"' in page and 'value="paper" id="id_features_2" checked' in page
    assert 'value="trading" id="id_features_0" checked' not in page
    assert not ExchangeConnection.objects.exists()
    assert emulated_exchanges.calls() == [], "nothing reached the exchange"
    assert trader.shows_none_of(*(value for value in keys.values() if len(value) >= 8))


def test_a_multi_line_private_key_is_masked_and_never_written_back_into_the_page(trader):
    pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk\n-----END EC PRIVATE KEY-----"
    keys = {"api_key": "organizations/7f1c/apiKeys/2b9e-4c1d", "secret": pem}
    page = text(trader.get(CONNECT, {"exchange": "coinbase"}))
    assert re.search(r'<textarea name="secret"[^>]*class="secret-text"', page), "masked by the stylesheet"
    answer = trader.post(TEST, keys_form("coinbase", keys, nickname=""))
    assert answer.status_code == 200 and "This field is required." in text(answer)
    assert re.search(r'<textarea name="secret"[^>]*>\s*</textarea>', text(answer)), "typed again, never echoed"
    assert trader.shows_none_of(keys["api_key"], "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk")


def test_an_exchange_we_do_not_support_is_a_form_error_at_every_step(trader, emulated_exchanges, binance_keys):
    for answer in (
        trader.get(CONNECT, {"exchange": "bitfinex"}),
        trader.post(TEST, keys_form("bitfinex", binance_keys)),
    ):
        assert answer.status_code == 200
        assert "We do not support that exchange. Choose one of those below." in text(answer)
        assert "Connect Binance" in text(answer), "the choice is offered again"
    assert not ExchangeConnection.objects.exists()
    assert trader.shows_none_of(*binance_keys.values())


def test_kucoin_asks_for_its_passphrase_and_connects_with_it(trader, secured_owner, emulated_exchanges, kucoin_keys):
    page = text(trader.get(CONNECT, {"exchange": "kucoin"}))
    assert 'type="password" name="passphrase"' in page and 'name="sandbox"' not in page
    tested = trader.post(TEST, keys_form("kucoin", kucoin_keys, nickname="KC"))
    assert 'data-testid="test-code">ok<' in text(tested)
    saved = trader.post(SAVE, {"state": state_of(trader.post(REVIEW, {"state": state_of(tested)})), "nickname": "KC"})
    assert saved.status_code == 302
    assert ExchangeConnection.objects.get(user=secured_owner).exchange == "kucoin"
    assert trader.shows_none_of(*kucoin_keys.values())


def test_test_again_carries_the_keys_so_a_passing_retry_needs_no_retyping(trader, emulated_exchanges, binance_keys):
    emulated_exchanges.set_fault("binance", "maintenance")
    down = trader.post(TEST, keys_form("binance", binance_keys))
    assert 'data-testid="test-code">exchange_unavailable<' in text(down)
    assert "Wait until the exchange's maintenance ends" in words(down)

    emulated_exchanges.set_fault("binance", None)
    again = trader.post(TEST, {"state": state_of(down)})
    assert 'data-testid="test-code">ok<' in text(again) and "Continue to review" in text(again)
    assert trader.shows_none_of(*binance_keys.values())


def test_a_nickname_already_in_use_is_corrected_on_the_review_page(
    trader, secured_owner, emulated_exchanges, binance_keys
):
    connect(secured_owner, binance_keys, nickname="Main")
    review = trader.post(REVIEW, {"state": state_of(trader.post(TEST, keys_form("binance", binance_keys)))})
    taken = trader.post(SAVE, {"state": state_of(review), "nickname": "Main"})
    assert taken.status_code == 200 and "You already have a connection with this nickname." in text(taken)
    saved = trader.post(SAVE, {"state": state_of(taken), "nickname": "Second"})
    assert saved.status_code == 302
    assert sorted(ExchangeConnection.objects.values_list("nickname", flat=True)) == ["Main", "Second"]


def test_a_wizard_save_replayed_with_the_same_page_makes_no_second_connection(
    trader,
    emulated_exchanges,
    binance_keys,
):
    review = trader.post(REVIEW, {"state": state_of(trader.post(TEST, keys_form("binance", binance_keys)))})
    state = state_of(review)
    assert trader.post(SAVE, {"state": state, "nickname": "Main"}).status_code == 302
    replayed = trader.post(SAVE, {"state": state, "nickname": "Copy"})
    assert "already saved from this page" in replayed.content.decode()
    assert list(ExchangeConnection.objects.values_list("nickname", flat=True)) == ["Main"]


def test_the_wizard_sends_a_user_without_two_factor_to_set_it_up_and_back(client, verified_owner):
    client.force_login(verified_owner)
    answer = client.get(CONNECT)
    assert answer["Location"] == "/accounts/security/?next=%2Fexchanges%2Fconnect%2F"


def test_a_second_factor_that_lapsed_during_the_wizard_is_asked_for_on_the_review_page(
    secured_owner, emulated_exchanges, binance_keys
):
    browser = browser_signed_in_a_while_ago(secured_owner)
    tested = browser.post(TEST, keys_form("binance", binance_keys))
    review = browser.post(REVIEW, {"state": state_of(tested)})
    asked = browser.post(SAVE, {"state": state_of(review), "nickname": "Main"})
    assert asked.status_code == 200
    page = text(asked)
    assert "Authenticator code" in page and "Confirm it is you" in page
    assert not ExchangeConnection.objects.exists()

    saved = browser.post(
        SAVE, {"state": state_of(asked), "nickname": "Main", "otp_code": unused_totp_code(secured_owner)}
    )
    assert saved.status_code == 302
    assert ExchangeConnection.objects.filter(user=secured_owner).count() == 1


def test_the_carried_state_works_only_for_the_user_who_typed_the_keys(
    trader, outsider, emulated_exchanges, binance_keys
):
    state = state_of(trader.post(TEST, keys_form("binance", binance_keys)))
    verify_email_of(outsider)  # so the wizard's own gate lets the request reach the state
    thief = Client()
    thief.force_login(outsider)
    for url in (REVIEW, SAVE):
        answer = thief.post(url, {"state": state, "nickname": "Stolen"}, follow=True)
        assert "The connect wizard expired" in text(answer)
    tampered = trader.post(REVIEW, {"state": state[:-4] + "AAAA"}, follow=True)
    assert "The connect wizard expired" in text(tampered)
    assert not ExchangeConnection.objects.exists()


def test_the_test_step_is_rate_limited(trader, settings, emulated_exchanges, binance_keys):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "connection_test": "2/m"}
    answers = [trader.post(TEST, keys_form("binance", binance_keys)).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


# --- the connections page and its cards --------------------------------------------------------------------
def test_with_no_connection_the_page_invites_to_connect_one(owner_client):
    page = text(owner_client.get("/exchanges/"))
    assert "No exchange connected yet" in page and 'href="/exchanges/connect/"' in page


def test_cards_filter_by_exchange_and_show_revoked_ones_only_when_asked(
    owner, owner_client, emulated_exchanges, binance_keys, kucoin_keys
):
    connect(owner, binance_keys, nickname="Spot")
    connect(owner, kucoin_keys, exchange="kucoin", nickname="Alts")
    gone = connect(owner, binance_keys, nickname="Old")
    connection_revoke(actor=Actor.for_command("tests"), connection=gone)

    page = text(owner_client.get("/exchanges/"))
    assert page.count('data-testid="connection-card"') == 2 and "Old" not in page
    only_kucoin = text(owner_client.get("/exchanges/", {"exchange": "kucoin"}))
    assert only_kucoin.count('data-testid="connection-card"') == 1 and "Alts" in only_kucoin
    with_revoked = text(owner_client.get("/exchanges/", {"revoked": "1"}))
    assert with_revoked.count('data-testid="connection-card"') == 3
    assert 'data-testid="connection-status">Revoked<' in with_revoked
    nothing = text(owner_client.get("/exchanges/", {"q": "nope"}))
    assert "No connection matches these filters" in nothing


def test_test_now_flashes_the_code_and_message_and_marks_a_failure_on_the_chart(
    owner, owner_client, emulated_exchanges, binance_keys
):
    connection = connect(owner, binance_keys)
    passed = owner_client.post(f"/exchanges/{connection.pk}/test/", follow=True)
    assert "“Main” test result ok" in text(passed) and "The exchange accepted the keys." in text(passed)

    emulated_exchanges.remove_key("binance", binance_keys["api_key"])
    failed = text(owner_client.post(f"/exchanges/{connection.pk}/test/", follow=True))
    assert re.search(r"“Main” test result (invalid_credentials|ip_not_allowed)", failed)
    assert "How to fix it:" in failed
    assert 'data-testid="connection-status">Degraded<' in failed
    assert failed.count('data-testid="latency-failure"') == 1
    assert "1 failed (marked red on the baseline)" in failed


def test_editing_changes_the_nickname_and_features_only(owner, owner_client, emulated_exchanges, binance_keys):
    connection = connect(owner, binance_keys)
    form = text(owner_client.get(f"/exchanges/{connection.pk}/edit/"))
    assert 'value="Main"' in form
    answer = owner_client.post(f"/exchanges/{connection.pk}/edit/", {"nickname": "Savings", "features": ["wallet"]})
    assert answer.status_code == 302
    connection.refresh_from_db()
    assert (connection.nickname, connection.features) == ("Savings", ["wallet"])
    bad = owner_client.post(f"/exchanges/{connection.pk}/edit/", {"nickname": "Tab\there", "features": ["wallet"]})
    assert bad.status_code == 200 and "Use printable characters only." in text(bad)


def test_rotating_to_keys_that_fail_keeps_the_old_key_and_says_so(secured_owner, emulated_exchanges, binance_keys):
    connection = connect(secured_owner, binance_keys)
    old_hint = connection.key_hint
    browser = stepped_up(secured_owner)
    page = text(browser.get(f"/exchanges/{connection.pk}/rotate/"))
    assert f"…{old_hint}" in page and 'type="password" name="secret"' in page

    bad = {"api_key": "a-new-key-nobody-issued", "secret": "a-new-secret-Hy72Pq"}
    refused = browser.post(f"/exchanges/{connection.pk}/rotate/", bad)
    assert refused.status_code == 200
    assert "The new keys did not pass the test, so the old keys stay in use." in text(refused)
    connection.refresh_from_db()
    assert connection.key_hint == old_hint
    assert f"…{old_hint}" in text(browser.get("/exchanges/"))

    fresh = {"api_key": "cv-binance-key-rotated-Pw3", "secret": "cv-binance-secret-rotated-Zx9"}
    emulated_exchanges.add_key("binance", **fresh)
    rotated = browser.post(f"/exchanges/{connection.pk}/rotate/", fresh, follow=True)
    connection.refresh_from_db()
    assert connection.key_hint == fresh["api_key"][-4:]
    assert f"The new key …{connection.key_hint} passed the test and replaced …{old_hint}" in text(rotated)
    assert browser.shows_none_of(*binance_keys.values(), *bad.values(), *fresh.values())


def test_revoking_asks_first_then_wipes_the_keys_and_reminds_to_delete_them_on_the_exchange(
    owner, owner_client, emulated_exchanges, binance_keys
):
    connection = connect(owner, binance_keys)
    confirm = text(owner_client.get(f"/exchanges/{connection.pk}/revoke/"))
    assert "Also delete the key on the exchange." in confirm
    connection.refresh_from_db()
    assert connection.is_active, "a GET only asks"

    done = text(owner_client.post(f"/exchanges/{connection.pk}/revoke/", follow=True))
    assert "Revoked “Main”: its keys are deleted here. Also delete the key" in done
    connection.refresh_from_db()
    assert connection.status == Status.REVOKED
    assert (connection.api_key_sealed, connection.secret_sealed, connection.passphrase_sealed) == ("", "", "")
    assert "No exchange connected yet" in done


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "edit/", None),
        ("post", "edit/", {"nickname": "Mine now", "features": ["wallet"]}),
        ("post", "test/", {}),
        ("get", "rotate/", None),
        ("post", "rotate/", {"api_key": "x-outsider-key", "secret": "x-outsider-secret"}),
        ("get", "revoke/", None),
        ("post", "revoke/", {}),
    ],
)
def test_an_outsider_gets_404_for_every_action_on_the_owners_connection(
    owner, outsider, emulated_exchanges, binance_keys, method, path, data
):
    connection = connect(owner, binance_keys)
    before = ExchangeConnection.objects.filter(pk=connection.pk).values().get()
    intruder = Client()
    intruder.force_login(outsider)
    answer = getattr(intruder, method)(f"/exchanges/{connection.pk}/{path}", data)
    assert answer.status_code == 404
    assert ExchangeConnection.objects.filter(pk=connection.pk).values().get() == before


# --- the security panel and the guides ---------------------------------------------------------------------
def test_the_security_panel_shows_the_connection_trail_and_our_outbound_ip(
    owner, owner_client, settings, emulated_exchanges, binance_keys
):
    settings.EGRESS_IP = ""
    page = text(owner_client.get("/exchanges/security/"))
    assert "Not configured." in page and "Nothing yet." in page

    connection = connect(owner, binance_keys)
    owner_client.post(f"/exchanges/{connection.pk}/test/")
    settings.EGRESS_IP = "203.0.113.45"
    page = text(owner_client.get("/exchanges/security/"))
    assert 'data-testid="egress-ip">203.0.113.45<' in page and 'data-copy-target="egress-ip"' in page
    assert page.count('data-testid="audit-row"') == 2, "connected, then tested"
    assert 'href="/security/activity/?action=exchange.tested"' in page
    assert "Never allow withdrawals or transfers on the key" in page


@pytest.mark.parametrize("exchange", ["binance", "coinbase", "kraken", "kucoin"])
def test_each_exchange_has_a_guide_with_its_key_page_and_every_test_answer(owner_client, exchange):
    page = text(owner_client.get(f"/exchanges/guides/{exchange}/"))
    assert f'href="{exchange_spec(exchange).key_page_url}"' in page
    assert "Whitelist our IP" in page and "Never turn on:" in page
    codes = re.findall(r' id="code-([a-z_]+)"', page)
    assert codes == [
        "ok",
        "invalid_credentials",
        "permission_denied",
        "ip_not_allowed",
        "network_error",
        "exchange_unavailable",
        "rate_limited",
        "unknown",
    ]


def test_an_exchange_without_a_guide_is_not_found(owner_client):
    assert owner_client.get("/exchanges/guides/bitfinex/").status_code == 404


def test_the_pages_ask_to_sign_in(client):
    for url in ("/exchanges/", CONNECT, "/exchanges/security/", "/exchanges/guides/binance/"):
        assert client.get(url)["Location"].startswith("/accounts/login/")


def test_going_back_to_the_keys_keeps_no_feature_chosen_as_none(trader, emulated_exchanges, binance_keys):
    """Found in review: with every feature unticked, "back to the keys" offered the defaults again."""
    tested = trader.post(TEST, keys_form("binance", binance_keys, features=[]))
    back = re.search(r'href="(/exchanges/connect/\?[^"]+)"', html.unescape(tested.content.decode())).group(1)
    assert "features=" in back
    page = trader.get(back).content.decode()
    assert not re.search(r'name="features" value="(trading|wallet|paper)"[^>]*checked', page)
