"""POST /programs/{id}/imports/ and GET /imports/{id}/: the 202 body, polling to the end, the
10 MiB / 100,000-row limits (413), and who sees an import."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger import clock, services
from ledger.models import Contribution, ImportJob
from ledger.services import imports
from tests.api.conftest import client_for, fields_of, problem
from tests.api.roles_world import IMPORT_HEADER, csv_upload
from tests.factories import UserFactory

DAY = (clock.today() - dt.timedelta(days=1)).isoformat()
JOB_FIELDS = {
    "id", "program", "status", "dry_run", "file_name", "total_rows", "processed_rows",
    "would_create", "created", "skipped", "error_count", "errors", "created_by", "created_at",
    "finished_at",
}  # fmt: skip


@pytest.fixture
def reviewer(admin, program):
    person = UserFactory(username="reviewer1")
    services.grant_role(actor=admin, program=program, user=person, role="reviewer")
    return person


def upload(api, program, file, capture, **data):
    with capture(execute=True):  # the task is enqueued on commit; it runs at once in tests
        return api.post(
            f"/api/v1/programs/{program.pk}/imports/", {"file": file, **data}, format="multipart"
        )


def test_dry_run_then_import_then_reimport(reviewer, program, django_capture_on_commit_callbacks):
    api = client_for(reviewer)
    rows = "".join(f"artist1,feedback,Notes {n},{DAY},1,,T-{n},\n" for n in range(3))
    response = upload(
        api, program, csv_upload(rows), django_capture_on_commit_callbacks, dry_run="true"
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == JOB_FIELDS
    assert (body["status"], body["dry_run"], body["total_rows"]) == ("queued", True, 3)
    assert body["created_at"].endswith("Z") and body["finished_at"] is None
    polled = api.get(f"/api/v1/imports/{body['id']}/").json()
    assert polled["status"] == "succeeded" and polled["processed_rows"] == 3
    assert (polled["created"], polled["would_create"], polled["errors"]) == (0, 3, [])
    assert not Contribution.objects.exists()

    real = upload(api, program, csv_upload(rows), django_capture_on_commit_callbacks).json()
    polled = api.get(f"/api/v1/imports/{real['id']}/").json()
    assert (polled["status"], polled["created"], polled["skipped"]) == ("succeeded", 3, 0)
    again = upload(api, program, csv_upload(rows), django_capture_on_commit_callbacks).json()
    polled = api.get(f"/api/v1/imports/{again['id']}/").json()
    assert (polled["status"], polled["created"], polled["skipped"]) == ("succeeded", 0, 3)
    assert Contribution.objects.count() == 3

    listed = api.get(f"/api/v1/programs/{program.pk}/imports/").json()
    assert [job["id"] for job in listed["results"]] == [again["id"], real["id"], body["id"]]
    assert "errors" not in listed["results"][0]


def test_bad_rows_are_listed_with_row_and_field(
    reviewer, program, django_capture_on_commit_callbacks
):
    api = client_for(reviewer)
    rows = f"artist1,feedback,Ok,{DAY},1,,,\nartist1,feedback,Bad,{DAY},,,,\n"
    job = upload(api, program, csv_upload(rows), django_capture_on_commit_callbacks).json()
    polled = api.get(f"/api/v1/imports/{job['id']}/").json()
    assert polled["status"] == "failed" and polled["error_count"] == 1
    assert polled["errors"] == [
        {"row": 3, "field": "hours", "message": "Feedback needs the hours spent."}
    ]
    assert not Contribution.objects.exists()


def test_over_10_mib_is_413_before_and_after_the_body_is_read(reviewer, program):
    api = client_for(reviewer)
    big = SimpleUploadedFile("big.csv", IMPORT_HEADER.encode() + b"x" * (10 * 1024 * 1024))
    body = problem(
        api.post(f"/api/v1/programs/{program.pk}/imports/", {"file": big}, format="multipart"),
        413,
        "payload_too_large",
    )
    assert fields_of(body) == {"file"}
    # Far over: refused from the Content-Length alone, before the body is read.
    huge = SimpleUploadedFile("huge.csv", b"x" * (11 * 1024 * 1024))
    body = problem(
        api.post(f"/api/v1/programs/{program.pk}/imports/", {"file": huge}, format="multipart"),
        413,
        "payload_too_large",
    )
    assert body["detail"] == "The file is larger than 10 MiB; split it."
    # Elsewhere the 1 MiB limit stands.
    problem(api.post("/api/v1/contributions/", {"title": "x" * (1024 * 1024)}, format="json"), 413)
    assert not ImportJob.objects.exists()


def test_more_than_100000_rows_is_413(reviewer, program):
    api = client_for(reviewer)
    rows = "a\n" * 100_001
    body = problem(
        api.post(
            f"/api/v1/programs/{program.pk}/imports/",
            {"file": csv_upload(rows)},
            format="multipart",
        ),
        413,
        "payload_too_large",
    )
    assert "100,000 rows" in body["detail"]
    assert not ImportJob.objects.exists()


def test_no_file_json_body_and_a_closed_program(reviewer, program, admin):
    api = client_for(reviewer)
    url = f"/api/v1/programs/{program.pk}/imports/"
    assert fields_of(problem(api.post(url, {}, format="multipart"), 400)) == {"file"}
    problem(api.post(url, {"file": "x"}, format="json"), 415)
    services.update_program(actor=admin, program=program, status="closed")
    body = problem(api.post(url, {"file": csv_upload()}, format="multipart"), 400)
    assert fields_of(body) == {"program"}


def test_the_importer_sees_its_import_after_losing_its_role(reviewer, program, admin, artist):
    job = imports.start_import(actor=reviewer, program=program, upload=csv_upload())
    staff = program.staff_roles.get(user=reviewer)
    services.revoke_role(actor=admin, staff=staff)
    assert client_for(reviewer).get(f"/api/v1/imports/{job.pk}/").status_code == 200
    problem(client_for(artist).get(f"/api/v1/imports/{job.pk}/"), 404)
