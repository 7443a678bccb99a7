"""OpenAPI post-processing: the problem+json error responses and the Idempotency-Key header,
documented on every operation (they are produced for every operation, so the schema says so)."""

PROBLEM = {
    "type": "object",
    "description": "An error (RFC 9457 problem details).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "example": "validation_error"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True, "example": "bug_bounties.high"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}

_DESCRIPTIONS = {
    "400": "Invalid input (`validation_error`); nothing is written.",
    "401": "Not authenticated (`not_authenticated`, `authentication_failed`).",
    "403": "The caller's role may not do this (`permission_denied`).",
    "404": "No such object, or not visible to the caller (`not_found`).",
    "405": "Method not allowed (`method_not_allowed`).",
    "406": "Not acceptable (`not_acceptable`).",
    "409": "Conflict: `invalid_transition`, `insufficient_balance`, `idempotency_in_progress`.",
    "413": "Body over 1 MiB (`payload_too_large`).",
    "415": "Unsupported media type (`unsupported_media_type`); send application/json.",
    "422": "Idempotency-Key reused with a different request (`idempotency_conflict`).",
    "429": "Rate limited (`throttled`).",
    "500": "Server error (`server_error`).",
    "503": "The database is busy (`unavailable`).",
}
_COMMON = ("400", "401", "403", "404", "405", "406", "429", "500", "503")
_WRITES = ("409", "413", "415", "422")
_HEADERS = {
    "401": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    "429": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}},
    "503": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a POST safe to retry: a repeat with the same key and request replays the "
        "stored 2xx response (header `Idempotent-Replayed: true`). Scoped to the caller, "
        "kept at least 24 hours."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = _COMMON + (_WRITES if method != "get" else ())
            for code in codes:
                response = responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
                response["content"] = {"application/problem+json": {"schema": ref}}
                if code in _HEADERS:
                    response["headers"] = _HEADERS[code]
            authenticated = any(requirement for requirement in operation.get("security", []))
            if method == "post" and authenticated:  # keys are scoped to an authenticated caller
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                for code, response in responses.items():
                    if code.startswith("2"):
                        response.setdefault("headers", {})["Idempotent-Replayed"] = {
                            "schema": {"type": "string", "enum": ["true"]},
                            "description": "Present on a replayed response.",
                        }
    return result
