"""OpenAPI docs pages, served from local assets (drf-spectacular-sidecar), no CDN.

Swagger UI and ReDoc style themselves with inline styles and ReDoc runs a blob: worker,
so these two pages relax style-src and worker-src; scripts stay 'self' only.

ReDoc's bundle shows a "by Redocly" logo fetched from cdn.redoc.ly, and no option turns it
off. The ReDoc page therefore loads the sidecar's bundle through this view, with that one
URL replaced by an empty inline image: the page asks nothing of any other host.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from pathlib import Path

import drf_spectacular_sidecar
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.views.decorators.csp import csp_override
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

SIDECAR_STATIC = Path(drf_spectacular_sidecar.__file__).resolve().parent / "static"
REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"

DOCS_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}


@method_decorator(csp_override(DOCS_CSP), name="dispatch")
class SwaggerDocsView(SpectacularSwaggerSplitView):
    pass


class LocalRedocBundle:
    """The sidecar's ReDoc bundle without its CDN logo, built once per process."""

    def __init__(self) -> None:
        source = (SIDECAR_STATIC / REDOC_BUNDLE).read_text(encoding="utf-8")
        source = source.replace(REDOC_CDN_LOGO, EMPTY_IMAGE)
        # Served from another URL than the sidecar's, so its source map is named in full.
        map_name = f"sourceMappingURL={Path(REDOC_BUNDLE).name}.map"
        source = source.replace(map_name, f"sourceMappingURL={static(REDOC_BUNDLE + '.map')}")
        self.content = source.encode()
        self.gzipped = gzip.compress(self.content, mtime=0)
        self.version = hashlib.sha256(self.content).hexdigest()[:16]

    def response(self, request: HttpRequest) -> HttpResponse:
        compressed = "gzip" in request.headers.get("Accept-Encoding", "")
        response = HttpResponse(
            self.gzipped if compressed else self.content, content_type="text/javascript; charset=utf-8"
        )
        if compressed:
            response["Content-Encoding"] = "gzip"
        patch_vary_headers(response, ["Accept-Encoding"])
        # The URL carries the content's hash: a new sidecar gives a new URL.
        response["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


@functools.cache
def local_redoc_bundle() -> LocalRedocBundle:
    return LocalRedocBundle()


@method_decorator(csp_override(DOCS_CSP), name="dispatch")
class RedocDocsView(SpectacularRedocView):
    """The ReDoc page (``/api/redoc/``) and, at ``?bundle=<version>``, the bundle it loads."""

    template_name = "drf_spectacular/redoc_local.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if "bundle" in request.GET:
            return local_redoc_bundle().response(request)
        return super().get(request, *args, **kwargs)

    def _redoc_standalone(self) -> str:
        return f"{self.request.path}?bundle={local_redoc_bundle().version}"
