"""Bulk import of contributions from CSV (services/imports.py): the rules per row, all or
nothing, skipping what exists, progress and the worker's claim."""

import datetime as dt
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from ledger import clock, services
from ledger.errors import NotAllowed
from ledger.models import AuditEvent, Contribution, ImportChunk, ImportJob
from ledger.services import imports
from tests.conftest import log_feedback
from tests.factories import UserFactory

HEADER = "artist,kind,title,occurred_on,hours,severity,reference,description\n"
DAY = (clock.today() - dt.timedelta(days=3)).isoformat()


def csv_file(*lines, header=HEADER, name="work.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, (header + "".join(lines)).encode(encoding), "text/csv")


def feedback(artist="artist1", reference="", hours="1.5", title="Play-test notes"):
    return f"{artist},feedback,{title},{DAY},{hours},,{reference},\n"


def bug(artist="artist2", reference="", severity="high"):
    return f"{artist},bug_report,Crash,{DAY},,{severity},{reference},Steps in the ticket\n"


@pytest.fixture
def reviewer(admin, program):
    person = UserFactory(username="reviewer1")
    services.grant_role(actor=admin, program=program, user=person, role="reviewer")
    return person


def run(actor, program, upload, dry_run=False):
    job = imports.start_import(actor=actor, program=program, upload=upload, dry_run=dry_run)
    imports.run(job.pk)
    job.refresh_from_db()
    return job


def test_import_creates_submitted_work_with_audit_rows(reviewer, program, artist, artist2):
    upload = csv_file(feedback(reference="T-1"), bug(reference="https://bugs.example/2"))
    job = run(reviewer, program, upload)
    assert (job.status, job.created, job.skipped, job.error_count) == ("succeeded", 2, 0, 0)
    assert (job.total_rows, job.processed_rows) == (2, 2)
    work = {c.artist_id: c for c in Contribution.objects.filter(program=program)}
    assert work[artist.pk].hours == pytest.approx(1.5) and work[artist.pk].estimate_minor == 6750
    assert work[artist2.pk].severity == "high" and work[artist2.pk].estimate_minor == 20000
    assert {c.status for c in work.values()} == {"submitted"}
    assert {c.submitted_by_id for c in work.values()} == {reviewer.pk}
    assert all(c.review_due_on == clock.today() + dt.timedelta(days=14) for c in work.values())
    audited = AuditEvent.objects.filter(action="contribution.submit", program=program)
    assert sorted(int(a.object_id) for a in audited) == sorted(c.pk for c in work.values())
    assert not ImportChunk.objects.filter(job=job).exists()  # the file is gone


def test_dry_run_names_every_bad_row_and_field_and_writes_nothing(reviewer, program):
    good = [feedback(reference=f"G-{n}") for n in range(3000)]
    good[1200] = f"artist1,feedback,,{DAY},25,low,javascript:alert(1),\n"  # row 1202
    good[2500] = "nobody,bug_report,Crash,2999-01-01,,,R,\n"  # row 2502
    job = run(reviewer, program, csv_file(*good), dry_run=True)
    assert job.status == "failed"
    assert job.errors == [
        {"row": 1202, "field": "title", "message": "A title is required."},
        {"row": 1202, "field": "hours", "message": "Hours may be at most 24 for one contribution."},
        {
            "row": 1202,
            "field": "reference",
            "message": "A reference is plain text (such as BUG-123) or an http(s) link; "
            "“javascript:” links are not accepted.",
        },
        {
            "row": 2502,
            "field": "artist",
            "message": "No member of this program has this username or email.",
        },
        {"row": 2502, "field": "occurred_on", "message": "This date is in the future."},
        {
            "row": 2502,
            "field": "severity",
            "message": "A bug report needs a severity: low, medium, high or critical.",
        },
    ]
    assert job.error_count == 6 and job.created == 0
    assert not Contribution.objects.exists()


def test_dry_run_without_errors_counts_and_writes_nothing(reviewer, program, artist):
    Contribution.objects.filter(pk=log_feedback(program, artist).pk).update(reference="OLD")
    upload = csv_file(
        feedback(reference="OLD"), feedback(reference="NEW"), feedback(reference="NEW"), feedback()
    )
    job = run(reviewer, program, upload, dry_run=True)
    assert (job.status, job.created, job.would_create, job.skipped) == ("succeeded", 0, 2, 2)
    assert Contribution.objects.count() == 1
    assert ImportChunk.objects.filter(job=job).exists()  # kept for importing it for real
    real = imports.import_for_real(actor=reviewer, dry_run=job)
    imports.run(real.pk)
    real.refresh_from_db()
    assert (real.status, real.created, real.skipped) == ("succeeded", 2, 2)
    assert not ImportChunk.objects.exists()
    assert not imports.can_import_for_real(job)


def test_a_bad_last_row_writes_nothing(reviewer, program):
    rows = [feedback(reference=f"R-{n}") for n in range(2500)] + [feedback(hours="abc")]
    job = run(reviewer, program, csv_file(*rows))
    assert job.status == "failed" and [e["row"] for e in job.errors] == [2502]
    assert job.errors[0]["field"] == "hours"
    assert not Contribution.objects.exists()


def test_reimport_skips_everything_and_repeats_in_one_file_count_once(reviewer, program):
    rows = [feedback(reference="A"), feedback(reference="A"), bug(reference="A"), feedback()]
    first = run(reviewer, program, csv_file(*rows))
    # "A" for artist1 once, "A" for artist2 (another artist), the row without a reference.
    assert (first.created, first.skipped) == (3, 1)
    again = run(reviewer, program, csv_file(*rows))
    # Rows without a reference cannot be told apart from new work: created again.
    assert (again.status, again.created, again.skipped) == ("succeeded", 1, 3)
    assert Contribution.objects.exclude(reference="").count() == 2


def test_repeats_across_batches_are_skipped(reviewer, program):
    rows = [feedback(reference=f"R-{n % 1500}") for n in range(3000)]
    job = run(reviewer, program, csv_file(*rows))
    assert (job.created, job.skipped) == (1500, 1500)


def test_artist_by_username_or_email(reviewer, program, artist, artist2):
    artist2.email = "Artist.Two@Example.org"
    artist2.save()
    outsider = UserFactory(username="outsider", email="out@example.org")
    upload = csv_file(feedback("artist1"), feedback("artist.two@example.ORG"), feedback("outsider"))
    job = run(reviewer, program, upload, dry_run=True)
    assert job.errors == [
        {
            "row": 4,
            "field": "artist",
            "message": "No member of this program has this username or email.",
        }
    ]
    upload = csv_file(feedback("artist1"), feedback("artist.two@example.ORG"))
    run(reviewer, program, upload)
    assert sorted(Contribution.objects.values_list("artist_id", flat=True)) == sorted(
        [artist.pk, artist2.pk]
    )
    assert not Contribution.objects.filter(artist=outsider).exists()


@pytest.mark.parametrize(
    ("header", "errors"),
    [
        (
            "artist,kind,title,occurred_on,hours,severity,reference,notes\n",
            [
                ("notes", "Unknown column “notes”"),
                ("description", "The column “description” is missing"),
            ],
        ),
        (
            "artist,kind,title,occurred_on,hours,severity,reference,description,kind\n",
            [("kind", "The column “kind” appears twice.")],
        ),
    ],
)
def test_header_errors_name_the_column_on_row_1(reviewer, program, header, errors):
    job = run(reviewer, program, csv_file(feedback(), header=header), dry_run=True)
    assert [
        (e["row"], e["field"], e["message"][: len(m)])
        for e, (_, m) in zip(job.errors, errors, strict=True)
    ] == [(1, field, message) for field, message in errors]


def test_columns_in_any_order_and_a_bom(reviewer, program):
    header = "\ufeffTitle,artist,kind,occurred_on,hours,severity,reference,description\r\n"
    upload = csv_file(
        f'"Notes, with a comma",artist1,feedback,{DAY},2,,,"two\nlines"\r\n', header=header
    )
    job = run(reviewer, program, upload)
    assert job.status == "succeeded"
    work = Contribution.objects.get()
    assert (work.title, work.description) == ("Notes, with a comma", "two\nlines")


def test_other_encodings_are_refused_naming_the_row(reviewer, program):
    upload = csv_file(feedback(), feedback(title="Café notes"), encoding="latin-1")
    job = run(reviewer, program, upload, dry_run=True)
    assert job.status == "failed"
    assert job.errors == [{"row": 3, "field": "title", "message": imports._NOT_UTF8}]


def test_empty_file_and_wrong_width(reviewer, program):
    job = run(reviewer, program, csv_file(header=""), dry_run=True)
    assert job.errors[0]["row"] == 1 and job.errors[0]["message"].startswith("The file is empty")
    job = run(reviewer, program, csv_file("artist1,feedback\n"), dry_run=True)
    assert job.errors == [
        {"row": 2, "field": None, "message": "This row has 2 values; the header has 8."}
    ]


def test_size_and_row_limits(reviewer, program):
    big = SimpleUploadedFile("big.csv", b"x" * (10 * 1024 * 1024 + 1))
    with pytest.raises(imports.FileTooLarge):
        imports.start_import(actor=reviewer, program=program, upload=big)
    rows = HEADER + "a\n" * 100_001
    with pytest.raises(imports.FileTooLarge) as error:
        imports.start_import(
            actor=reviewer, program=program, upload=SimpleUploadedFile("x.csv", rows.encode())
        )
    assert error.value.field == "file" and "100,000 rows" in error.value.message
    ok = HEADER + "a\n" * 100_000
    job = imports.start_import(
        actor=reviewer, program=program, upload=SimpleUploadedFile("x.csv", ok.encode())
    )
    assert job.total_rows == 100_000
    assert not ImportJob.objects.exclude(pk=job.pk).exists()


def test_only_reviewers_and_managers_import(program, artist, admin):
    for role in ("treasurer", "auditor"):
        person = UserFactory(username=role)
        services.grant_role(actor=admin, program=program, user=person, role=role)
        with pytest.raises(NotAllowed):
            imports.start_import(actor=person, program=program, upload=csv_file(feedback()))
    with pytest.raises(NotAllowed):
        imports.start_import(actor=artist, program=program, upload=csv_file(feedback()))
    assert not ImportJob.objects.exists()


def test_progress_is_committed_every_thousand_rows(reviewer, program, monkeypatch):
    seen = []
    real_progress = imports._progress

    def spy(mine, processed, **counts):
        real_progress(mine, processed, **counts)
        seen.append(ImportJob.objects.get(pk=job.pk).processed_rows)

    monkeypatch.setattr(imports, "_progress", spy)
    rows = [feedback(reference=f"R-{n}") for n in range(3500)]
    job = imports.start_import(actor=reviewer, program=program, upload=csv_file(*rows))
    imports.run(job.pk)
    assert seen == [1000, 2000, 3000, 3500]


def test_a_lapsed_claim_is_taken_over_and_gives_up_after_the_last_attempt(
    reviewer, program, settings
):
    job = imports.start_import(
        actor=reviewer, program=program, upload=csv_file(feedback()), dry_run=False
    )
    # A worker claimed it and died: its claim holds until it lapses.
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", attempts=1, claimed_until=clock.now() + dt.timedelta(seconds=60)
    )
    assert imports.run(job.pk) == "skipped"
    ImportJob.objects.filter(pk=job.pk).update(claimed_until=clock.now() - dt.timedelta(seconds=1))
    assert imports.sweep() == 1  # enqueued; the immediate backend runs it at once
    job.refresh_from_db()
    assert (job.status, job.created, job.attempts) == ("succeeded", 1, 2)
    stuck = imports.start_import(actor=reviewer, program=program, upload=csv_file(feedback()))
    ImportJob.objects.filter(pk=stuck.pk).update(
        status="running",
        attempts=settings.LEDGER_IMPORT_ATTEMPTS,
        claimed_until=clock.now() - dt.timedelta(seconds=1),
    )
    assert imports.run(stuck.pk) == "failed"
    stuck.refresh_from_db()
    assert stuck.errors[0]["message"].startswith("The import stopped")
    assert Contribution.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_another_connection_while_the_job_runs(
    admin, program, monkeypatch, settings
):
    """What a poller sees: each progress update is committed, read here from a connection of
    another thread while the worker is still between batches."""
    seen = []
    real_progress = imports._progress

    def read_elsewhere(job_id):
        try:
            seen.append(ImportJob.objects.get(pk=job_id).processed_rows)
        finally:
            connection.close()

    def spy(mine, processed, **counts):
        real_progress(mine, processed, **counts)
        reader = threading.Thread(target=read_elsewhere, args=[job.pk])
        reader.start()
        reader.join()

    monkeypatch.setattr(imports, "_progress", spy)
    # The task waits in a queue (a worker elsewhere); the test is the worker.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    rows = [feedback(reference=f"R-{n}") for n in range(2500)]
    job = imports.start_import(actor=admin, program=program, upload=csv_file(*rows), dry_run=False)
    assert ImportJob.objects.get(pk=job.pk).status == "queued"
    imports.run(job.pk)
    assert seen == [1000, 2000, 2500]
    assert Contribution.objects.count() == 2500


def test_a_closed_program_fails_the_job_as_a_whole(reviewer, program, admin):
    job = imports.start_import(actor=reviewer, program=program, upload=csv_file(feedback()))
    services.update_program(actor=admin, program=program, status="closed")
    imports.run(job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.errors == [
        {"row": None, "field": None, "message": "This program is closed to new work."}
    ]


def test_blank_lines_are_neither_counted_nor_read(reviewer, program):
    job = run(reviewer, program, csv_file(feedback(), "\n", " , ,,,,,,\n", feedback()))
    assert (job.total_rows, job.processed_rows, job.created) == (2, 2, 2)
