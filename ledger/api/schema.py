"""OpenAPI post-processing: each operation's problem+json error responses (those it can
actually answer with), who may call it, and the Idempotency-Key header of authenticated POSTs."""

from ledger.params import MAX_ID
from ledger.services.common import earliest_date

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
    "400": "Invalid input (`validation_error`), naming the field or parameter; nothing is written.",
    "401": "Not authenticated (`not_authenticated`, `authentication_failed`).",
    "403": "The caller may not do this (`permission_denied`).",
    "404": "No such object, or not visible to the caller (`not_found`).",
    "406": "Not acceptable (`not_acceptable`).",
    "409": "Conflict.",
    "413": "Body over 1 MiB (`payload_too_large`).",
    "415": "Unsupported media type (`unsupported_media_type`); send application/json.",
    "422": "Idempotency-Key reused with a different request (`idempotency_conflict`).",
    "429": "Rate limited (`throttled`).",
    "500": "Server error (`server_error`).",
    "503": "The database is busy (`unavailable`).",
}
_HEADERS = {
    "401": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    "429": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}},
    "503": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}},
}
_IN_PROGRESS = "`idempotency_in_progress`: the same Idempotency-Key is still being processed"
_SIGNED_IN = "Any signed-in user."
_PAGE_PAST_END = "a page past the end"
_STAFF = "Staff of the program (any role) read it all"
_NOT_SEEN = "a program the caller cannot see, or " + _PAGE_PAST_END
_SOD = "`separation_of_duties` in `errors[0].code`"

# Who may call each operation and what it answers beyond the generic errors: the domain's
# 403, 404 and 409 with their reasons (docs/API.md says the same at length). Keyed by
# "METHOD path" under /api/v1. A 404 for an id in the path and a 409 for an Idempotency-Key
# in progress are added to every operation that has one; the rest is listed here. Roles are
# per program (manager, reviewer, treasurer, auditor); an operator (superuser) holds them all.
OPERATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "POST /auth/tokens/": (
        "Anyone: authenticates with the username and password in the body (throttled per "
        "client address; a locked-out or inactive user is refused as a bad password). "
        "Whoever has set up two-factor sign-in also sends a current code as `otp` (a wrong "
        "one counts toward the lockout); staff must have set it up while the server requires "
        "it (`LEDGER_STAFF_REQUIRE_2FA`, on in production).",
        {
            "401": "`authentication_failed`: bad username or password; or `otp` missing or "
            "wrong, named in `errors[0].field`",
            "403": "`permission_denied`: staff without two-factor sign-in while the server "
            "requires it (set it up on the pages first)",
        },
    ),
    "GET /auth/tokens/": (_SIGNED_IN + " Its own live tokens.", {"404": _PAGE_PAST_END}),
    "DELETE /auth/tokens/{id}/": (
        _SIGNED_IN + " Its own tokens only.",
        {"404": "not one of the caller's live tokens"},
    ),
    "POST /auth/tokens/revoke-all/": (_SIGNED_IN + " Only ever its own tokens.", {}),
    "GET /me/": (
        _SIGNED_IN + " With its roles per program and whether it uses two-factor sign-in.",
        {},
    ),
    "GET /me/preferences/": (_SIGNED_IN + " Its own preferences.", {}),
    "PATCH /me/preferences/": (
        _SIGNED_IN + " Its own preferences: the fields sent change, the rest stay.",
        {
            "400": "`email_notifications` not a JSON `true` or `false`; `iban` or `bic` not "
            "valid, a BIC of another country than the IBAN's, or a BIC with no IBAN on file"
        },
    ),
    "GET /notifications/": (
        _SIGNED_IN + " Its own notifications only (nobody reads another's, operators "
        "included), newest first.",
        {"404": _PAGE_PAST_END},
    ),
    "POST /notifications/{id}/read/": (
        _SIGNED_IN + " Its own notifications; marking one already read changes nothing.",
        {"404": "not one of the caller's notifications"},
    ),
    "POST /notifications/read-all/": (_SIGNED_IN + " Marks its own unread notifications.", {}),
    "GET /artists/": (
        "An operator sees everyone but operators; staff, the members of their programs and "
        "the people who accepted an invitation to one; anyone, itself.",
        {"404": _PAGE_PAST_END},
    ),
    "POST /artists/": (
        "Holders of the Django permission `accounts.add_user` (operators).",
        {
            "403": "anyone without the permission",
            "400": "`username` taken, `password` refused by the validators",
        },
    ),
    "GET /artists/{id}/": ("As the list: someone the caller sees.", {}),
    "GET /programs/": (
        "The programs the caller is staff or a member of (an operator: every one).",
        {"404": _PAGE_PAST_END},
    ),
    "POST /programs/": (
        "Holders of the Django permission `ledger.add_program`; the creator becomes its manager.",
        {"403": "anyone without the permission"},
    ),
    "GET /programs/{id}/": ("Its staff and members.", {}),
    "PATCH /programs/{id}/": (
        "A manager of the program: `name`, `description`, `public`, `status`, "
        "`approval_threshold`, the deadlines, `payer_name`, `payer_iban`, `payer_bic`.",
        {"403": "anyone else who sees it", "400": "`currency` changed, a bad value"},
    ),
    "GET /programs/{program_id}/rate-cards/": (
        "Its staff and members.",
        {"404": _NOT_SEEN},
    ),
    "POST /programs/{program_id}/rate-cards/": (
        "A manager of the program. Cards are immutable: a later `effective_from` supersedes.",
        {
            "403": "anyone else who sees the program",
            "400": "amounts with more decimals than the program's currency has, "
            "`effective_from` already used by a card of the program or before the ledger's "
            "earliest date",
        },
    ),
    "GET /programs/{program_id}/rate-cards/{card_id}/": ("Its staff and members.", {}),
    "GET /programs/{program_id}/members/": (
        _STAFF + "; an artist, its own membership.",
        {"404": _NOT_SEEN},
    ),
    "POST /programs/{program_id}/members/": (
        "A manager, enrolling someone it already sees (an operator: anyone).",
        {
            "403": "anyone else who sees the program",
            "400": "`artist` already a member, or no such active user the caller sees",
        },
    ),
    "GET /programs/{program_id}/staff/": (
        "Staff of the program (any role).",
        {"403": "a member who is not staff", "404": "a program the caller cannot see"},
    ),
    "POST /programs/{program_id}/staff/": (
        "A manager of the program grants `role` to `user`.",
        {
            "403": "anyone else who sees the program",
            "400": "`role` unknown or already held, `user` no such active user the caller sees",
        },
    ),
    "DELETE /programs/{program_id}/staff/{staff_id}/": (
        "A manager of the program.",
        {
            "403": "anyone else who sees the program",
            "409": "`invalid_transition`: the program's last manager",
        },
    ),
    "GET /programs/{program_id}/imports/": (
        "Staff of the program (any role): its bulk imports, newest first (without their "
        "`errors`: read one import for those).",
        {"403": "a member who is not staff", "404": _NOT_SEEN},
    ),
    "POST /programs/{program_id}/imports/": (
        "A reviewer or manager of the program uploads a CSV file of contributions; the answer "
        "(202) is the queued job, to poll at `GET /imports/{id}/` until it is `succeeded` or "
        "`failed`. All or nothing: any bad row fails the import and writes nothing.",
        {
            "403": "anyone else who sees the program",
            "400": "no `file`, an empty one, or the program is closed",
            "404": "a program the caller cannot see",
            "413": "the file is over 10 MiB or 100,000 rows (this route's limit replaces the "
            "1 MiB one)",
            "415": "send multipart/form-data",
        },
    ),
    "GET /imports/{id}/": (
        "Staff of the import's program (any role) and whoever started it.",
        {"404": "an import the caller does not see"},
    ),
    "GET /programs/{program_id}/invitations/": (
        "Staff of the program (any role), newest first.",
        {"403": "a member who is not staff", "404": _NOT_SEEN},
    ),
    "POST /programs/{program_id}/invitations/": (
        "A manager of the program invites `email` as a member (no `role`) or as staff in "
        "`role`; the single-use link is mailed after the invitation is stored.",
        {
            "403": "anyone else who sees the program",
            "400": "`email` not an email address, `role` unknown, `display_name` too long",
        },
    ),
    "POST /programs/{program_id}/invitations/{invitation_id}/revoke/": (
        "A manager of the program: the link stops working.",
        {
            "403": "anyone else who sees the program",
            "404": "an invitation of another program",
            "409": "`invalid_transition`: not pending (accepted, revoked or expired)",
        },
    ),
    "GET /programs/{program_id}/webhooks/": (
        "Staff of the program (any role). Secrets are never listed.",
        {"403": "a member who is not staff", "404": "a program the caller cannot see"},
    ),
    "POST /programs/{program_id}/webhooks/": (
        "A manager of the program subscribes `url` to `events`; the answer holds the signing "
        "`secret`, shown only there.",
        {
            "403": "anyone else who sees the program",
            "400": "`url` not https (unless the server allows http), with a user name, "
            "unresolvable or resolving to a loopback, private, link-local or metadata address; "
            "`events` empty or naming an unknown event; `description` too long",
        },
    ),
    "GET /programs/{program_id}/webhooks/{webhook_id}/": (
        "Staff of the program (any role). Without the secret.",
        {"403": "a member who is not staff", "404": "a webhook of another program"},
    ),
    "DELETE /programs/{program_id}/webhooks/{webhook_id}/": (
        "A manager of the program: the subscription, its deliveries and their log go; "
        "nothing more is sent to it.",
        {"403": "anyone else who sees the program", "404": "a webhook of another program"},
    ),
    "GET /programs/{program_id}/webhooks/{webhook_id}/deliveries/": (
        "Staff of the program (any role), newest first.",
        {
            "403": "a member who is not staff",
            "404": "a webhook of another program, or " + _PAGE_PAST_END,
        },
    ),
    "GET /programs/{program_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/": (
        "Staff of the program (any role): the delivery, its body and every attempt.",
        {"403": "a member who is not staff", "404": "a delivery of another webhook"},
    ),
    "POST /programs/{program_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver/": (
        "A manager of the program: the delivery is sent again now, with the same "
        "`webhook-id` and body and a whole retry schedule of its own.",
        {
            "403": "anyone else who sees the program",
            "404": "a delivery of another webhook",
            "409": "`invalid_transition`: a worker is sending it at this moment",
        },
    ),
    "GET /programs/{program_id}/report/": (
        "Anyone for a public program (figures withheld from readers who are neither members "
        "nor staff while too few artists have contributed); its members and staff for any.",
        {},
    ),
    "GET /contributions/": (
        _STAFF + " of their programs; an artist sees its own.",
        {"404": _PAGE_PAST_END},
    ),
    "POST /contributions/": (
        "A member, for itself; a reviewer or manager of the program, for a named member "
        "(`artist` required when the caller is not a member).",
        {
            "400": "`program` the caller is not a member of, `artist` not a member or not the "
            "caller's to name, `occurred_on` in the future or with no rate card in effect, "
            "`hours` on a bug report or `severity` on feedback",
        },
    ),
    "GET /contributions/{id}/": (_STAFF + "; an artist, its own.", {}),
    "POST /contributions/{id}/accept/": (
        "A reviewer of the program. Not on its own work.",
        {
            "403": "anyone else who sees it; the reviewer's own work (" + _SOD + ")",
            "409": "`invalid_transition`: not `submitted`",
        },
    ),
    "POST /contributions/{id}/reject/": (
        "A reviewer of the program. Not on its own work.",
        {
            "403": "anyone else who sees it; the reviewer's own work (" + _SOD + ")",
            "409": "`invalid_transition`: not `submitted`",
        },
    ),
    "POST /contributions/{id}/reverse/": (
        "A reviewer of the program. Not on its own work.",
        {
            "403": "anyone else who sees it; the reviewer's own work (" + _SOD + ")",
            "409": "`invalid_transition`: not `accepted`",
        },
    ),
    "POST /contributions/{id}/withdraw/": (
        "The artist who logged the work.",
        {
            "403": "anyone else who can see it",
            "409": "`invalid_transition`: not `submitted`",
        },
    ),
    "GET /payouts/": (
        _STAFF + " of their programs; an artist sees its own.",
        {"404": _PAGE_PAST_END},
    ),
    "POST /payouts/": (
        "A treasurer of the program, never to itself. At or above the program's "
        "`approval_threshold` the payout is `proposed` (nothing posted).",
        {
            "403": "staff of no program; in the program, anyone but a treasurer; a payout to "
            "oneself (" + _SOD + ")",
            "400": "`program` the caller cannot see, `artist` not a member of `program`, "
            "`amount` with more decimals than the currency has or over 10^15 minor units, "
            "`paid_on` in the future",
            "409": "`insufficient_balance`: a settlement over the artist's outstanding balance",
        },
    ),
    "GET /payouts/{id}/": (_STAFF + "; an artist, its own.", {}),
    "POST /payouts/{id}/void/": (
        "A treasurer of the program.",
        {"403": "anyone else who sees it", "409": "`invalid_transition`: not `paid`"},
    ),
    "POST /payouts/{id}/approve/": (
        "A treasurer of the program other than the proposer and the artist paid: the payout is "
        "posted now, the settlement check made under the lock.",
        {
            "403": "anyone else who sees it; the proposer or the payee (" + _SOD + ")",
            "409": "`invalid_transition`: not `proposed`; `insufficient_balance`: a settlement "
            "over what is outstanding now (it stays proposed)",
        },
    ),
    "POST /payouts/{id}/decline/": (
        "A treasurer of the program other than the proposer and the artist paid; `reason` "
        "required.",
        {
            "403": "anyone else who sees it; the proposer or the payee (" + _SOD + ")",
            "409": "`invalid_transition`: not `proposed`",
        },
    ),
    "POST /payouts/{id}/confirm/": (
        "The artist paid, on a `paid` payout: `acknowledged` becomes `confirmed`. Confirming "
        "again changes nothing and answers the same.",
        {
            "403": "anyone else who sees it (staff of the program, operators)",
            "409": "`invalid_transition`: not `paid` (proposed, declined or void)",
        },
    ),
    "GET /disputes/": (
        _STAFF + " of their programs' disputes; an artist sees its own.",
        {"404": _PAGE_PAST_END},
    ),
    "POST /disputes/": (
        "The artist whose work or pay the subject is, within the program's "
        "`dispute_window_days` of the decision disputed (its review; the payout's recording, "
        "or its approval when it needed one).",
        {
            "400": "`subject` not one the caller sees; `claim` that does not fit the subject "
            "(`rejection`: rejected work, `valuation`: accepted work, `not_received`: a paid "
            "payout); `statement` blank; `evidence_url` not an http(s) link",
            "403": "anyone else who sees the subject (its program's staff)",
            "409": "`dispute_window_closed`: the decision is older than the window; "
            "`already_disputed`: a dispute about the subject is still open",
        },
    ),
    "GET /disputes/{id}/": (_STAFF + "; an artist, its own.", {}),
    "POST /disputes/{id}/uphold/": (
        "A reviewer of the program (a dispute about work) or a treasurer (about a payout); "
        "never the artist nor whoever made the decision disputed. `rejection`: the work is "
        "accepted and valued (`hours`/`severity` optional); `valuation`: `hours` (feedback) or "
        "`severity` (bug report) required, worth more than now, and an `adjustment` entry "
        "posts the difference; `not_received`: the payout is voided.",
        {
            "400": "`note` blank; `hours`/`severity` missing, not for this kind of work, or not "
            "worth more than the current value",
            "403": "anyone else who sees it; the artist or the person whose decision is "
            "disputed (" + _SOD + ")",
            "409": "`invalid_transition`: not `open`, or the subject moved on (work no longer "
            "rejected or accepted, payout no longer paid)",
        },
    ),
    "POST /disputes/{id}/dismiss/": (
        "As uphold: a reviewer (work) or treasurer (payout), never the artist nor whoever "
        "made the decision disputed; `note` required. Nothing else changes.",
        {
            "400": "`note` blank",
            "403": "anyone else who sees it; the artist or the person whose decision is "
            "disputed (" + _SOD + ")",
            "409": "`invalid_transition`: not `open`",
        },
    ),
    "POST /disputes/{id}/withdraw/": (
        "The artist who opened it.",
        {"403": "anyone else who sees it", "409": "`invalid_transition`: not `open`"},
    ),
    "GET /balances/": (
        _STAFF + " of their programs; an artist sees its own.",
        {"404": _PAGE_PAST_END},
    ),
    "GET /statements/": (
        "Staff of the program, for any member (`artist` required unless the caller is a "
        "member too); an artist, for itself (`artist` may be left out; another artist's id "
        "is a 404).",
        {
            "400": "`artist` missing for staff, `to` before `from`",
            "404": "a program the caller cannot see, or an artist who is not its member",
        },
    ),
    "POST /statements/verify/": (
        "Staff of the program, for any statement; an artist, for its own.",
        {"404": "an artist/program pair the caller cannot see"},
    ),
    "GET /ledger/entries/": (
        _STAFF + " of their programs; an artist sees the entries touching its own accounts.",
        {"400": "a `cursor` this API did not issue"},
    ),
}
_BOOKS = (
    "Staff of the program (any role).",
    {"403": "staff of no program; a member of it who is not staff", "404": "no such program"},
)
for _operation in (
    "GET /ledger/verify/",
    "GET /ledger/export/",
    "GET /exports/outstanding/",
):
    OPERATIONS[_operation] = _BOOKS
OPERATIONS["GET /exports/payout-batch/"] = (
    "Staff of the program (any role) for the CSV; only its treasurers (and operators) for "
    "`format=pain.001`, which holds the artists' whole IBANs.",
    {
        **_BOOKS[1],
        "400": "`format=pain.001` for a program not in EUR",
        "403": _BOOKS[1]["403"] + "; for `pain.001`, staff who are not its treasurers",
        "409": "`missing_bank_details`: artists of the batch without an IBAN on file, or the "
        "program without a paying account, each in `errors`; `empty_batch`: no payouts paid "
        "that day (`pain.001` only)",
    },
)


def _error_codes(method: str, path: str, operation: dict, extra: dict) -> list[str]:
    """The generic error statuses this operation can answer with."""
    parameters = operation.get("parameters", [])
    queried = any(p["in"] == "query" for p in parameters)
    authenticated = any(requirement for requirement in operation.get("security", []))
    codes = {"401", "406", "429", "500", "503", *extra}
    if method == "post" or queried:
        codes.add("400")  # a malformed body or parameter
    if method != "get" and authenticated:
        codes.add("403")  # a session cookie's write without its CSRF token
    if "{" in path:
        codes.add("404")
    if method == "post":
        codes |= {"413", "415"}
        if authenticated:
            codes |= {"409", "422"}  # Idempotency-Key in progress, reused
    return sorted(codes)


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


NO_NUL = r"^[^\u0000]*$"  # DRF's CharField refuses a NUL character anywhere
# A non-blank CharField (minLength 1) trims whitespace first: it needs one character that
# Python's str.strip() keeps. Listed, not `\s`, which differs between regex dialects.
NOT_BLANK = (
    r"^[^\u0000]*[^\u0000\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a"
    r"\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
)


def year_at_least(year: int) -> str:
    """A pattern for an ISO date string whose 4-digit year is at least `year`."""
    digits = f"{year:04d}"
    options = [digits]
    for place, digit in enumerate(digits):
        if digit != "9":
            rest = 3 - place
            tail = f"[0-9]{{{rest}}}" if rest else ""
            options.append(f"{digits[:place]}[{int(digit) + 1}-9]{tail}")
    return f"^(?:{'|'.join(options)})-"


def date_floor_pattern() -> str:
    """The ledger's earliest date as a pattern on date strings: exact when the floor is a
    1 January (the default), else the floor's year (the server still refuses the rest)."""
    return year_at_least(earliest_date().year)


def tighten_request_strings(schema: dict, floor: str) -> None:
    """What DRF and the services refuse in every request string, said in the schema: a NUL
    character in text, whitespace-only text where text is required (write-only passwords are
    not trimmed); a date before the ledger's floor."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and "enum" not in schema:
        if schema.get("format") == "date":
            schema.setdefault("pattern", floor)
        elif "format" not in schema and "pattern" not in schema:
            trimmed = schema.get("minLength", 0) >= 1 and not schema.get("writeOnly")
            schema["pattern"] = NOT_BLANK if trimmed else NO_NUL
    for value in schema.get("properties", {}).values():
        tighten_request_strings(value, floor)
    for key in ("items", "additionalProperties"):
        tighten_request_strings(schema.get(key), floor)


def add_problem_responses(result, generator, request, public):
    floor = date_floor_pattern()
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        if name.endswith("Request"):  # COMPONENT_SPLIT_REQUEST: the shapes clients send
            tighten_request_strings(component, floor)
    schemas["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            key = f"{method.upper()} {path.removeprefix('/api/v1')}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                    # an id: what `ledger.params.parse_id` accepts
                    parameter["schema"].update(minimum=1, maximum=MAX_ID)
                if parameter["in"] == "query":
                    tighten_request_strings(parameter["schema"], floor)
            if key not in OPERATIONS:  # every operation says who may call it
                raise LookupError(f"{key}: say who may call it in ledger.api.schema.OPERATIONS")
            who, extra = OPERATIONS[key]
            authenticated = any(requirement for requirement in operation.get("security", []))
            lines = [operation.get("description", "").strip(), f"**Who may call it:** {who}"]
            responses = operation.setdefault("responses", {})
            codes = _error_codes(method, path, operation, extra)
            errors = []
            for code in codes:
                reasons = [extra[code]] if code in extra else []
                if code == "409" and method == "post" and authenticated:
                    reasons.append(_IN_PROGRESS)
                description = _DESCRIPTIONS[code]
                if reasons:
                    description += " Here: " + "; ".join(reasons) + "."
                    errors.append(f"{code}: " + "; ".join(reasons))
                response = responses.setdefault(code, {})
                response["description"] = description
                response["content"] = {"application/problem+json": {"schema": ref}}
                if code in _HEADERS:
                    response["headers"] = _HEADERS[code]
            if errors:
                lines.append("**Errors beyond the generic ones:** " + "; ".join(errors) + ".")
            operation["description"] = "\n\n".join(line for line in lines if line)
            if method == "post" and authenticated:  # keys are scoped to an authenticated caller
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                for code, response in responses.items():
                    if code.startswith("2"):
                        response.setdefault("headers", {})["Idempotent-Replayed"] = {
                            "schema": {"type": "string", "enum": ["true"]},
                            "description": "Present on a replayed response.",
                        }
    return result
