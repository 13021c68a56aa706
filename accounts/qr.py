"""QR codes drawn on the server as inline SVG (segno), so an authenticator's seed never
leaves the page for a chart service and the CSP needs no exception."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(data: str, *, title: str) -> SafeString:
    """An <svg role="img"> that scales with CSS (viewBox, no fixed size); black on white, as
    phone cameras read best, whatever the page theme."""
    code = segno.make(data, error="m")
    svg = code.svg_inline(scale=1, border=4, dark="#000", light="#fff", title=title, svgclass="qr-code", omitsize=True)
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308 - segno's own markup; title escaped
