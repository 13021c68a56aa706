"""JSON answers that can always be encoded.

DRF writes UTF-8 JSON (`ensure_ascii=False`), and error messages repeat the input they refuse
("\\ud800" is not a valid choice). A lone surrogate in that input cannot be encoded as UTF-8, so
the 400 would become a 500. Such an answer is written with ASCII escapes instead; everything
else stays plain UTF-8.
"""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer


class SafeJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            try:
                return super().render(data, accepted_media_type, renderer_context)
            finally:
                self.ensure_ascii = False
