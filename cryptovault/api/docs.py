"""OpenAPI docs pages, served from local assets (drf-spectacular-sidecar), no CDN.

Swagger UI and ReDoc style themselves with inline styles and ReDoc runs a blob: worker,
so these two pages relax style-src and worker-src; scripts stay 'self' only.
"""

from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

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


@method_decorator(csp_override(DOCS_CSP), name="dispatch")
class RedocDocsView(SpectacularRedocView):
    template_name = "drf_spectacular/redoc_local.html"
