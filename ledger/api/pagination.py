"""List pagination: {results, next, previous} (+ count); page_size honoured up to 100."""

from rest_framework.pagination import CursorPagination, PageNumberPagination

MAX_PAGE_SIZE = 100


class PagePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE  # larger values are clamped to this


class EntryCursorPagination(CursorPagination):
    """Ledger entries, oldest first; a cursor stays stable while new entries are appended."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "id"
