"""The API reference pages load nothing from another host: no CDN, as the docs promise."""

from __future__ import annotations

import gzip
import re

import pytest

EXTERNAL_LOAD = re.compile(r"""(?:\bsrc\s*[:=]\s*|url\(\s*|@import\s+)["']?https?://""")


@pytest.fixture
def redoc_bundle(client):
    page = client.get("/api/redoc/").content.decode()
    script = re.search(r'<script src="([^"]+)"', page)
    assert script, page
    return script.group(1), client.get(script.group(1))


@pytest.mark.django_db
def test_the_redoc_bundle_comes_from_this_origin_without_the_cdn_logo(redoc_bundle):
    url, response = redoc_bundle
    bundle = response.content.decode()
    assert url.startswith("/"), "same origin"
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "Redoc" in bundle
    assert "cdn.redoc.ly" not in bundle
    assert not EXTERNAL_LOAD.search(bundle), EXTERNAL_LOAD.search(bundle)


@pytest.mark.django_db
def test_the_redoc_bundle_is_compressed_and_cached_by_version(client, redoc_bundle):
    url, plain = redoc_bundle
    compressed = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert "immutable" in plain["Cache-Control"]
    assert "Accept-Encoding" in plain["Vary"]
