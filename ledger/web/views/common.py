"""What every page shares: the staff and role checks, the programs a user acts in, safe
redirects, pagination, domain errors on forms."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from ledger import access
from ledger.errors import DomainError, ValidationFailed
from ledger.models import Program
from ledger.params import parse_positive

from .. import forms

PAGE_SIZE = 25


def admin_required(view):
    """Signed-in staff of some program (or operators) only: others get a 403 (anonymous
    users go to the login page). The program's own role is checked next, by the view."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not access.is_staff(request.user):
            raise PermissionDenied("Only a program's staff may use this page.")
        return view(request, *args, **kwargs)

    return wrapped


def role_required(action: access.Action, message: str):
    """Signed-in users who may take `action` in at least one program; others get a 403 that
    says so (`message`; anonymous users go to the login page). The role in the program of
    each object is checked next, by the service."""

    def decorator(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            where = access.programs_where(request.user, action)
            if where is not None and not where:
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def staff_programs(user, action: access.Action = access.Action.READ):
    """The programs where `user` may take `action` (`forms.readable_programs`) ordered by
    name: what a page lists, filters by or offers in a form."""
    return forms.readable_programs(user, action).order_by("name")


def staff_program(request, pk, action=access.Action.READ):
    """The program a staff page names: 404 unless the user sees it, 403 unless its roles
    there allow `action` (`ledger.access`)."""
    program = get_object_or_404(Program.objects.visible_to(request.user), pk=pk)
    error = access.refusal(request.user, action, program.pk)
    if error is not None:
        raise PermissionDenied(error.message)
    return program


def next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    # A path on this site only: `redirect()` would read anything else without a slash as a
    # view name to reverse ("home", or "²", which fails), and host checks apply to the rest.
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


def page_of(request, queryset, size=PAGE_SIZE):
    # A malformed page number is the first page, as Paginator.get_page does for non-numbers.
    return Paginator(queryset, size).get_page(parse_positive(request.GET.get("page")))


def show_domain_error(request, form, error: DomainError) -> None:
    """Input errors go beside their field; refusals of the action itself (reviewing one's own
    work, a contribution no longer in the right state) are a message above the page."""
    if isinstance(error, ValidationFailed):
        forms.apply_domain_error(form, error)
    else:
        messages.error(request, error.message)
