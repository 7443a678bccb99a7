"""Problem details (RFC 9457) for every error under /api/: one translation of each error kind.

Body: {type, title, status, detail, code, errors: [{field, code, message}]}, served as
`application/problem+json`. Domain errors carry their own status and code; DRF's validation
errors are flattened into one item per field (nested names dotted: `bug_bounties.high`).
"""

import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from rest_framework import exceptions, status

from ledger import db_errors
from ledger.db_errors import classify
from ledger.errors import DomainError, ValidationFailed

logger = logging.getLogger("ledger.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    411: "Length required",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}

DEFAULT_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than 1 MiB."
    default_code = "payload_too_large"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_conflict"


class IdempotencyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is being processed; retry shortly."
    default_code = "idempotency_in_progress"


class SecondFactorFailed(exceptions.AuthenticationFailed):
    """A second-factor code in the body missing or wrong: 401 `authentication_failed`, with an
    `errors` item naming the body field (`code` there: `required` or `invalid`)."""

    def __init__(self, detail: str, *, field: str = "otp", code: str = "invalid"):
        super().__init__(detail)
        self.field = field
        self.item_code = code


def problem_response(
    status_code: int,
    *,
    code: str | None = None,
    detail: str = "",
    errors: list[dict] | None = None,
    headers: dict | None = None,
) -> HttpResponse:
    code = code or DEFAULT_CODES.get(status_code, "error")
    body = {
        "type": "about:blank",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail or TITLES.get(status_code, "Error"),
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _flatten(detail, prefix: str | None = None) -> list[dict]:
    """DRF's nested error detail → [{field, code, message}], field names dotted."""
    items: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", settings.REST_FRAMEWORK.get("NON_FIELD_ERRORS_KEY")):
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            items.extend(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(d, dict | list) for d in detail):
            for d in detail:
                items.append(_item(prefix, d))
        else:
            for index, value in enumerate(detail):
                if value:
                    items.extend(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        items.append(_item(prefix, detail))
    return items


def _item(field: str | None, detail) -> dict:
    code = getattr(detail, "code", None) or "invalid"
    return {"field": field, "code": code, "message": str(detail)}


def _domain_problem(exc: DomainError) -> HttpResponse:
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [
            {"field": field, "code": exc.code, "message": message}
            for field, message in exc.errors.items()
        ]
    elif getattr(exc, "problems", None):
        # Several things to fix at once (every artist without banking details).
        errors = [
            {"field": field, "code": exc.code, "message": message}
            for field, message in exc.problems
        ]
    elif getattr(exc, "detail_code", None):
        # A refusal with a reason of its own (separation of duties): named in errors[0].code.
        errors = [{"field": None, "code": exc.detail_code, "message": exc.message}]
    return problem_response(exc.status, code=exc.code, detail=exc.message, errors=errors)


def _validation_problem(detail) -> HttpResponse:
    errors = _flatten(detail)
    first = errors[0]["message"] if errors else "Invalid input."
    fields = sorted({e["field"] or "request" for e in errors})
    summary = f"Invalid input: {', '.join(fields)}." if errors else first
    return problem_response(400, code="validation_error", detail=summary, errors=errors)


def database_problem(exc: DatabaseError) -> HttpResponse | None:
    """A busy or briefly unreachable database is a 503 to retry, not a 500 (ledger.db_errors)."""
    kind = classify(exc)
    if kind is None:
        return None
    return problem_response(
        503,
        code="unavailable",
        detail=_BUSY_DETAIL[kind],
        headers={"Retry-After": "1" if kind != db_errors.CONNECTION else "5"},
    )


_BUSY_DETAIL = {
    db_errors.LOCK_TIMEOUT: "Someone else is changing the same records; retry shortly.",
    db_errors.SERIALIZATION: "A concurrent change got in the way; nothing was written, retry.",
    db_errors.STATEMENT_TIMEOUT: "The database took too long; nothing was written, retry.",
    db_errors.CONNECTION: "The database is unreachable for a moment; retry shortly.",
}


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error raised in an API view becomes a problem."""
    if isinstance(exc, DomainError):
        return _domain_problem(exc)
    if isinstance(exc, Http404):
        return problem_response(404, detail="Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return problem_response(403, detail="You do not have permission to do this.")
    if isinstance(exc, RequestDataTooBig):
        return problem_response(413, detail=PayloadTooLarge.default_detail)
    if isinstance(exc, exceptions.ValidationError):
        return _validation_problem(exc.detail)
    if isinstance(exc, exceptions.ParseError):
        return problem_response(
            400,
            code="validation_error",
            detail=str(exc.detail),
            errors=[{"field": None, "code": "parse_error", "message": str(exc.detail)}],
        )
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
            code = (
                "authentication_failed"
                if isinstance(exc, exceptions.AuthenticationFailed)
                else "not_authenticated"
            )
            errors = None
            if isinstance(exc, SecondFactorFailed):
                errors = [{"field": exc.field, "code": exc.item_code, "message": str(exc.detail)}]
            return problem_response(
                401, code=code, detail=str(exc.detail), errors=errors, headers=headers
            )
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else None
        if isinstance(exc, exceptions.Throttled):
            code = "throttled"
            headers.setdefault("Retry-After", "1")
        elif isinstance(exc, exceptions.NotFound):
            code = "not_found"
        elif isinstance(exc, exceptions.PermissionDenied):
            code = "permission_denied"
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return problem_response(exc.status_code, code=code, detail=detail, headers=headers)
    if isinstance(exc, DatabaseError):
        response = database_problem(exc)
        if response is not None:
            logger.warning("database busy: %s", exc)
            return response
    logger.exception("unhandled error in an API view", exc_info=exc)
    return problem_response(500, detail="Something went wrong on our side.")
