"""JSON request bodies, read with a hard size limit (the Content-Length may be absent or lie)."""

import json

from django.conf import settings
from rest_framework import exceptions, parsers

from .errors import PayloadTooLarge


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge()
        try:
            text = raw.decode("utf-8")
            # NaN and Infinity are not JSON: refuse them like any other malformed body.
            return json.loads(text, parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from None
        except RecursionError:
            # Thousands of nested arrays/objects: no request of this API nests more than 3.
            raise exceptions.ParseError("Malformed JSON: nested too deeply.") from None


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")
