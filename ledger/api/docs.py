"""Swagger UI's stylesheet without `data:` images, so the docs pass `img-src 'self'`.

The sidecar's swagger-ui.css embeds its icons as data: URIs, which a strict CSP blocks. This
serves the same stylesheet with each of them replaced by a URL of this app that returns the
decoded image, read from the installed package (so it follows its version).
"""

import base64
import functools
import re
from urllib.parse import unquote

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

_CSS = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"
_DATA_URL = re.compile(
    r"""url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(data:[^)'"\s]*))\s*\)"""
)
_CACHE = "public, max-age=86400"


@functools.cache
def rewritten() -> tuple[str, list[tuple[str, bytes]]]:
    with open(finders.find(_CSS), encoding="utf-8") as handle:
        css = handle.read()
    images: list[tuple[str, bytes]] = []

    def replace(match):
        raw = next(group for group in match.groups() if group is not None)
        if not raw.startswith("data:"):
            return match.group(0)
        data = re.sub(r"\\(.)", r"\1", raw)  # CSS string escapes
        header, _, payload = data.partition(",")
        mime = header[5:].split(";")[0] or "text/plain"
        body = base64.b64decode(payload) if ";base64" in header else unquote(payload).encode()
        images.append((mime, body))
        return f'url("img/{len(images) - 1}/")'

    return _DATA_URL.sub(replace, css), images


@require_safe
def stylesheet(request):
    response = HttpResponse(rewritten()[0], content_type="text/css; charset=utf-8")
    response["Cache-Control"] = _CACHE
    return response


@require_safe
def image(request, index: int):
    images = rewritten()[1]
    if index >= len(images):
        raise Http404("No such image.")
    mime, body = images[index]
    response = HttpResponse(body, content_type=mime)
    response["Cache-Control"] = _CACHE
    response["X-Content-Type-Options"] = "nosniff"
    return response
