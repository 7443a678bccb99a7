"""Middleware of the server-rendered pages."""

from django.db import DatabaseError
from django.shortcuts import render

from ledger.db_errors import classify


class DatabaseBusyMiddleware:
    """Pages: a busy or briefly unreachable database is a 503 page with Retry-After, not a 500.

    (The API answers the same conditions with problem+json in ledger.api.errors; both name
    them with `ledger.db_errors.classify`.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DatabaseError) or classify(exception) is None:
            return None
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "5"
        return response
