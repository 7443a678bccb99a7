"""Statements: on the page, as CSV and as PDF."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from ledger import access, queries, routing
from ledger.exports import downloads
from ledger.exports.pdf import statement_context
from ledger.models import (
    Membership,
    Program,
)
from ledger.params import parse_id

from .. import forms


def _statement_for(request, program_id):
    """(program, artist, filter form, statement or None, members for an admin's picker)."""
    user = request.user
    program = get_object_or_404(Program.objects.visible_to(user), pk=program_id)
    members = None
    if access.scope_of(user).staff_of(program.pk):  # staff: pick the artist
        members = Membership.objects.filter(program=program).select_related("artist")
    artist_id = request.GET.get("artist")
    artist = None
    if artist_id or not queries.must_name_artist(user, program):
        membership = None
        if artist_id is None or parse_id(artist_id) is not None:
            artist_id = None if artist_id is None else parse_id(artist_id)
            membership = queries.statement_membership(user, program, artist_id)
        if membership is None:
            raise Http404("No such member.")
        artist = membership.artist
    form = forms.StatementFilterForm(
        {k: v for k, v in request.GET.items() if k in ("date_from", "date_to")}
    )
    statement = None
    if artist is not None and form.is_valid():
        statement = queries.statement(
            artist=artist,
            program=program,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
    return program, artist, form, statement, members


@never_cache  # statements (page, CSV, PDF) are someone's pay record: no cache keeps a copy
@login_required
@routing.replica_reads()
def statement(request, program_id):
    program, artist, form, statement, members = _statement_for(request, program_id)
    deadline = None
    if statement is not None:  # today's figures, whatever the period shown
        key = (program.pk, artist.pk)
        deadline = queries.pay_deadlines([(*key, program.pay_within_days)])[key]
    return render(
        request,
        "web/statement.html",
        {
            "program": program,
            "artist": artist,
            "form": form,
            "statement": statement,
            "printable": statement_context(statement) if statement else None,
            "members": members,
            "query": request.GET.urlencode(),
            "deadline": deadline,
        },
    )


@never_cache
@login_required
@routing.replica_reads()
def statement_csv_view(request, program_id):
    return _statement_file(request, program_id, downloads.statement_csv_download)


@never_cache
@login_required
@routing.replica_reads()
def statement_pdf_view(request, program_id):
    """The statement as PDF, from the same template as the page (ledger.exports.pdf)."""
    return _statement_file(request, program_id, downloads.statement_pdf_download)


def _statement_file(request, program_id, download):
    """The statement as `download(statement)` makes it a file; without a statement (no
    artist chosen or a bad period) back to the page, which says which."""
    statement = _statement_for(request, program_id)[3]
    if statement is None:
        query = request.GET.urlencode()
        return redirect(reverse("statement", args=[program_id]) + (f"?{query}" if query else ""))
    return download(statement)
