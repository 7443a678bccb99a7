"""List pagination: {results, next, previous}; page_size honoured up to 100.

No `count` (the contract makes it optional): a `SELECT COUNT(*)` over every visible row cost
more than the page itself on big lists and grew with the table (4.6 ms of a 12 ms request at
338k contributions; docs/PERFORMANCE.md). A page fetches page_size + 1 rows instead, the extra
row saying whether there is a next page.
"""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ledger.params import parse_id, parse_positive

MAX_PAGE_SIZE = 100
# OFFSET must fit in a signed 64-bit integer; any page beyond this is empty anyway.
_MAX_OFFSET = 2**62


def _positive_int(text) -> int | None:
    return parse_positive(text)


def single_value(request, name: str):
    """The one value of query parameter `name` (None when absent); a repeat is a 400 naming
    it, not a silent choice of one of the values."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    return values[0] if values else None


def page_size_of(request, name: str, default: int) -> int:
    """`?page_size=`: absent → `default`; a positive integer, clamped to MAX_PAGE_SIZE;
    anything else (empty, `null`, `abc`, `0`, repeated) is a 400 naming the parameter."""
    raw = single_value(request, name)
    if raw is None:
        return default
    digits = raw.lstrip("0")  # ASCII digits only: not int(), which takes " 7" and "١٢"
    if not (raw.isascii() and raw.isdigit() and digits):
        raise ValidationError({name: ["A whole number from 1 (larger than 100 counts as 100)."]})
    return MAX_PAGE_SIZE if len(digits) > 3 else min(int(digits), MAX_PAGE_SIZE)


class PagePagination(BasePagination):
    """`?page=N` (from 1) and `?page_size=`; a page past the end (other than the first) is a 404,
    as a non-numeric or non-positive page is."""

    page_size = 50
    page_query_param = "page"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE  # larger values are clamped to this

    def get_page_size(self, request) -> int:
        return page_size_of(request, self.page_size_query_param, self.page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        raw = single_value(request, self.page_query_param)
        number = 1 if raw in (None, "") else _positive_int(raw)
        if number is None or (number - 1) * size > _MAX_OFFSET:
            raise NotFound("Invalid page.")
        offset = (number - 1) * size
        rows = list(queryset[offset : offset + size + 1])
        if not rows and number > 1:
            raise NotFound("Invalid page.")
        self.number = number
        self.has_next = len(rows) > size
        return rows[:size]

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.number + 1)

    def get_previous_link(self) -> str | None:
        if self.number == 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response(self, data):
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    **link,
                    "example": f"http://api.example.org/accounts/?{self.page_query_param}=4",
                },
                "previous": {
                    **link,
                    "example": f"http://api.example.org/accounts/?{self.page_query_param}=2",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "A page number, from 1. A page past the end (other than the first), or "
                    "a number that is not a positive integer, is a 404."
                ),
                "schema": {"type": "integer", "minimum": 1},
            },
            PAGE_SIZE_PARAMETER,
        ]


PAGE_SIZE_PARAMETER = {
    "name": "page_size",
    "required": False,
    "in": "query",
    "description": (
        f"Rows per page: default 50; larger than {MAX_PAGE_SIZE} counts as {MAX_PAGE_SIZE}. "
        "Anything but a positive integer (given once) is a 400 naming `page_size`."
    ),
    "schema": {"type": "integer", "minimum": 1},
}


class EntryCursorPagination(CursorPagination):
    """Ledger entries, oldest first; a cursor stays stable while new entries are appended."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "id"

    def get_page_size(self, request) -> int:
        return page_size_of(request, self.page_size_query_param, self.page_size)

    def decode_cursor(self, request):
        """DRF's decoding, then the position checked as an id: the cursor is client-held
        text, and an unchecked position (`p=abc`) reached `id > 'abc'` in the query. A cursor
        this server did not issue is a 400 naming `cursor` (DRF's default is a 404)."""
        single_value(request, self.cursor_query_param)
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = False
        if cursor is False or (cursor is not None and not _valid_position(cursor.position)):
            raise ValidationError(
                {"cursor": ["Not a cursor this API issued; use the `next` or `previous` link."]}
            )
        return cursor

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: copy it from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            PAGE_SIZE_PARAMETER,
        ]


def _valid_position(position) -> bool:
    # Ordering is by id alone, so a position is an id (or absent on the first page).
    return position is None or parse_id(position) is not None
