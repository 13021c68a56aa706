import logging
import time

import pytest

from cryptovault.logging import MASK, SecretMaskingFilter, mask_secrets

BINANCE_STYLE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
KRAKEN_STYLE_SECRET = "kQH5HW/8p1uJOedw7LBbaTv4H5N3vGlk+cJqpyj8SA1Jq7hWmW2aUTBGz7d5M9S+7Xv9a/LFn6h1Q2w3sXyJ/Ow=="


@pytest.mark.parametrize(
    "line, secret",
    [
        ("login failed password=hunter2-Secret for bob", "hunter2-Secret"),
        ('{"api_key": "k-123456789", "symbol": "BTC/USDT"}', "k-123456789"),
        ("headers: Authorization: Bearer abcdefghijklmnop.qrstu", "abcdefghijklmnop"),
        (f"connecting with {BINANCE_STYLE_KEY}", BINANCE_STYLE_KEY),
        (f"kraken secret {KRAKEN_STYLE_SECRET} refused", KRAKEN_STYLE_SECRET[20:40]),
        ("otp_secret=JBSWY3DPEHPK3PXP", "JBSWY3DPEHPK3PXP"),
        ("GET /reset?token=3f9a1c2b7d", "3f9a1c2b7d"),
        ("integration used cvk_0a1b2c3d_s3cr3t-Part_of-the-key", "s3cr3t-Part_of-the-key"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJzdWIi",
        ),
    ],
)
def test_secret_looking_values_are_masked(line, secret):
    masked = mask_secrets(line)
    assert secret not in masked
    assert MASK in masked


def test_ordinary_log_content_is_left_readable():
    line = "GET /api/v1/me/ 200 12.5ms request 3f2b9c1d8e7a4b6c9d0e1f2a3b4c5d6e BTC/USDT qty=0.5"
    assert mask_secrets(line) == line
    for endpoint in ("/api/v1/auth/verify-email/resend/", "/api/v1/auth/token/refresh/", "/api/v1/auth/token/sms/"):
        assert mask_secrets(f"POST {endpoint} 200") == f"POST {endpoint} 200", "operators still see which endpoint"
    for path in ("/api/v1/market/BTC-USDT/indicators/", "/api/v1/market/AVAX-USDT/orderbook/?depth=20"):
        assert mask_secrets(f"GET {path} 200") == f"GET {path} 200", "long paths are not keys"


def test_secrets_in_log_arguments_and_tracebacks_are_masked():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "request body %s", ("password=topsecret1",), None)
    try:
        raise ValueError("bad api_key=AKIAEXAMPLE123")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    SecretMaskingFilter().filter(record)
    assert "topsecret1" not in record.getMessage()
    assert "AKIAEXAMPLE123" not in record.exc_text


def test_a_huge_line_is_masked_in_linear_time_not_minutes():
    """Found by a probe: a 10,000-character URL took 28 s to mask, holding the server meanwhile.

    Not a benchmark: quadratic patterns take minutes on these inputs, linear ones milliseconds.
    """
    started = time.perf_counter()
    for line in ("A" * 200_000, "GET /" + "Ab1/" * 50_000, "x= " * 70_000, "a-" * 100_000):
        mask_secrets(line)
    assert time.perf_counter() - started < 2


def test_djangos_csrf_reason_stays_readable():
    line = "Forbidden (CSRF token missing.): /accounts/login/"
    assert mask_secrets(line) == line
