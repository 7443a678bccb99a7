"""Guard for everything under /api/: bodies over the limit → 413 before any view reads them,
and any error response that is not already problem+json (a 500 page, a middleware's 400/403)
is replaced by one, so no HTML page or traceback ever leaves the API."""

import logging
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError
from django.http import Http404, HttpResponse

from ledger.models.imports import IMPORT_MAX_BYTES

from .errors import PROBLEM_CONTENT_TYPE, PayloadTooLarge, database_problem, problem_response

logger = logging.getLogger("ledger.api")

_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


# The one route whose body may be larger than DATA_UPLOAD_MAX_MEMORY_SIZE: a bulk import's
# CSV file, up to 10 MiB, plus what multipart framing adds around it. The view checks the
# file's own size (`services.imports`), so a file a byte over 10 MiB is still refused.
_IMPORT_UPLOAD = re.compile(r"/api/v1/programs/[0-9]+/imports/")
MULTIPART_ALLOWANCE = 64 * 1024


def body_limit(request) -> tuple[int | None, str]:
    """The largest body the request may carry, and what a 413 says about it."""
    if request.method == "POST" and _IMPORT_UPLOAD.fullmatch(request.path_info):
        return IMPORT_MAX_BYTES + MULTIPART_ALLOWANCE, "The file is larger than 10 MiB; split it."
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE, PayloadTooLarge.default_detail


class RequireContentLengthMiddleware:
    """A request body without Content-Length (Transfer-Encoding: chunked) is refused: 411.

    gunicorn passes a chunked body on, but Django reads only Content-Length bytes, so it would
    arrive as an empty body and fail as a misleading 400 (or, worse, a form read as empty).
    Refusing says what to change; every client this app serves can send a length, and the
    body limit (DATA_UPLOAD_MAX_MEMORY_SIZE) stays checked before anything is read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_TRANSFER_ENCODING" not in request.META or request.META.get("CONTENT_LENGTH"):
            return self.get_response(request)
        detail = "Send the request body with a Content-Length header; chunked bodies are refused."
        if _is_api(request):
            return problem_response(411, detail=detail)
        return HttpResponse(
            f"411 Length Required: {detail}\n", status=411, content_type="text/plain; charset=utf-8"
        )


class ApiProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _is_api(request):
            return self.get_response(request)
        limit, too_large = body_limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(400, detail="Malformed Content-Length header.")
        if limit is not None and length > limit:
            return problem_response(413, detail=too_large)
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            PROBLEM_CONTENT_TYPE
        ):
            replacement = problem_response(response.status_code)
            for header in _KEPT_HEADERS:
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    def process_exception(self, request, exception):
        if not _is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return problem_response(413, detail=PayloadTooLarge.default_detail)
        if isinstance(exception, Http404):
            return problem_response(404, detail="Not found.")
        if isinstance(exception, PermissionDenied):
            return problem_response(403, detail="You do not have permission to do this.")
        if isinstance(exception, SuspiciousOperation):
            return problem_response(400, detail="Bad request.")
        if isinstance(exception, DatabaseError) and (busy := database_problem(exception)):
            return busy
        logger.error("unhandled error under /api/", exc_info=exception)
        return problem_response(500, detail="Something went wrong on our side.")
