"""Middleware of the server-rendered pages."""

from urllib.parse import urlencode

from django.db import DatabaseError
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts import second_factor
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


class StaffSecondFactorMiddleware:
    """Pages: while `LEDGER_STAFF_REQUIRE_2FA` is on, a staff session not verified with a code
    reaches nothing but signing in and out and the second-factor pages: without a device it is
    sent to enrolment, with one to the code step, and comes back to the page it asked for.

    Every page, not only the staff-only ones: the home page, a program's page and statements
    show staff more than they show an artist. The API answers such a session as not signed in
    (`ledger.api.auth.SessionAuthentication`); bearer tokens are not sessions and keep working.
    """

    # Reachable by every signed-in session, verified or not.
    OPEN = frozenset({"login", "logout", "login_code"})
    # Reachable too by a session that must enrol before anything else.
    OPEN_TO_ENROL = frozenset({"two_factor", "two_factor_enrol"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        name = request.resolver_match.view_name if request.resolver_match else None
        if name in self.OPEN:
            return None
        owed = second_factor.due(request.user)
        if owed is None or (owed == second_factor.ENROL and name in self.OPEN_TO_ENROL):
            return None
        target = reverse("two_factor_enrol" if owed == second_factor.ENROL else "login_code")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)  # the whole page, not a fragment
        return redirect(target)
