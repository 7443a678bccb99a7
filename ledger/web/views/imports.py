"""Bulk import pages: upload a CSV file (a dry run by default), follow the job's progress
(htmx polling of its `processed_rows`), read its errors, import a checked file for real."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ledger import access
from ledger.errors import DomainError
from ledger.models import ImportJob
from ledger.models.imports import IMPORT_COLUMNS
from ledger.services import imports

from .. import forms
from .common import show_domain_error, staff_program

RECENT = 20  # imports listed on a program's import page


@login_required
def program_imports(request, pk):
    """A program's imports: its staff read the list; a reviewer or manager uploads."""
    program = staff_program(request, pk)
    refused = access.refusal(request.user, access.Action.LOG_FOR_OTHERS, program.pk)
    form = None
    status = 200
    if refused is None:
        form = forms.ImportForm(request.POST or None, request.FILES or None)
    elif request.method == "POST":
        messages.error(request, refused.message)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            job = imports.start_import(
                actor=request.user,
                program=program,
                upload=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except DomainError as error:
            show_domain_error(request, form, error)
            status = error.status if error.status == 413 else 400
        else:
            return redirect("import_detail", pk=job.pk)
    elif request.method == "POST" and form is not None:
        status = 400
    recent = ImportJob.objects.filter(program=program).select_related("created_by")[:RECENT]
    return render(
        request,
        "web/imports.html",
        {"program": program, "form": form, "refused": refused, "recent": recent},
        status=status,
    )


@login_required
def import_template(request, pk):
    """A CSV template: the header and one example row of each kind."""
    program = staff_program(request, pk)
    response = HttpResponse(TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-program-{program.pk}.csv"'
    return response


TEMPLATE = (
    ",".join(IMPORT_COLUMNS)
    + "\r\nartist1,feedback,Play-test of level 3,2026-01-15,2.5,,PLAY-42,Notes in the wiki\r\n"
    + "artist@example.org,bug_report,Crash on export,2026-01-16,,high,"
    + "https://tracker.example.org/BUG-7,\r\n"
)


def _visible_job(request, pk) -> ImportJob:
    job = ImportJob.objects.visible_to(request.user).select_related("program", "created_by")
    job = job.filter(pk=pk).first()
    if job is None:
        raise Http404("No such import.")
    return job


@login_required
def import_detail(request, pk):
    """One import: its progress (polled while it runs), its counts, its errors."""
    job = _visible_job(request, pk)
    return render(request, "web/import_detail.html", _context(request, job))


@login_required
def import_progress(request, pk):
    """The progress fragment the job page polls every second until the job ends."""
    job = _visible_job(request, pk)
    return render(request, "web/_import_status.html", _context(request, job, polled=True))


@login_required
@require_POST
def import_run(request, pk):
    """Import for real the file a successful dry run checked (no second upload)."""
    job = _visible_job(request, pk)
    try:
        real = imports.import_for_real(actor=request.user, dry_run=job)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("import_detail", pk=job.pk)
    return redirect("import_detail", pk=real.pk)


def _context(request, job, *, polled=False) -> dict:
    may_import = access.can(request.user, access.Action.LOG_FOR_OTHERS, job.program_id)
    return {
        "job": job,
        "program": job.program,
        "polled": polled,
        "staff_here": access.can(request.user, access.Action.READ, job.program_id),
        "can_run": job.finished and may_import and imports.can_import_for_real(job),
    }
