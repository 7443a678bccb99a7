"""The import pages: upload (a dry run by default), the job page with its progress and its
errors, "Import for real", the template, and who may do what."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger import clock, services
from ledger.models import Contribution, ImportJob
from ledger.models.imports import IMPORT_COLUMNS
from tests.api.roles_world import IMPORT_HEADER, csv_upload
from tests.conftest import make_program
from tests.factories import UserFactory

DAY = (clock.today() - dt.timedelta(days=1)).isoformat()


@pytest.fixture
def reviewer(admin, program):
    person = UserFactory(username="reviewer1")
    services.grant_role(actor=admin, program=program, user=person, role="reviewer")
    return person


def post_file(client, program, file, capture, dry_run=True):
    data = {"file": file, **({"dry_run": "on"} if dry_run else {})}
    with capture(execute=True):
        return client.post(f"/programs/{program.pk}/imports/", data)


def test_dry_run_then_import_for_real(
    client_for, reviewer, program, django_capture_on_commit_callbacks
):
    client = client_for(reviewer)
    page = client.get(f"/programs/{program.pk}/imports/")
    assert page.status_code == 200
    assert b'name="dry_run"' in page.content and b"checked" in page.content
    rows = f"artist1,feedback,Notes,{DAY},1,,T-1,\nartist2,bug_report,Crash,{DAY},,low,,\n"
    response = post_file(client, program, csv_upload(rows), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Would be created" in page and "Import for real" in page
    assert 'value="100"' in page and "hx-trigger" not in page  # finished: no more polling
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/run/")
    real = ImportJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == f"/imports/{real.pk}/"
    assert (real.status, real.created, real.dry_run) == ("succeeded", 2, False)
    assert Contribution.objects.count() == 2
    # One dry run, one import: its file has moved to the import.
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Import for real" not in page
    assert client.post(f"/imports/{job.pk}/run/").status_code == 302
    assert ImportJob.objects.count() == 2


def test_errors_are_a_table_of_row_column_problem(
    client_for, reviewer, program, django_capture_on_commit_callbacks
):
    client = client_for(reviewer)
    rows = f"artist1,feedback,Notes,{DAY},1,,,\nghost,feedback,Notes,{DAY},1,,,\n"
    post_file(client, program, csv_upload(rows), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Rows to fix" in page and "Import for real" not in page
    assert '<th scope="row">3</th><td data-label="Column">artist</td>' in page
    assert "No member of this program has this username or email." in page


def test_a_running_job_polls_and_the_fragment_announces_the_end(client_for, reviewer, program):
    client = client_for(reviewer)
    job = services.imports.start_import(actor=reviewer, program=program, upload=csv_upload())
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert f'hx-get="/imports/{job.pk}/progress/"' in page and 'hx-trigger="every 1s"' in page
    assert 'id="import-announce"' in page and "hx-swap-oob" not in page
    services.imports.run(job.pk)
    fragment = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in fragment and 'hx-swap-oob="true"' in fragment
    assert "Dry run finished: 0 to create, 0 to skip, no errors." in fragment


def test_a_file_over_10_mib_is_refused_beside_the_field(client_for, reviewer, program):
    client = client_for(reviewer)
    big = SimpleUploadedFile("big.csv", IMPORT_HEADER.encode() + b"x" * (10 * 1024 * 1024))
    response = client.post(f"/programs/{program.pk}/imports/", {"file": big, "dry_run": "on"})
    assert response.status_code == 413
    assert "larger than 10 MiB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_template_download(client_for, reviewer, program):
    response = client_for(reviewer).get(f"/programs/{program.pk}/imports/template.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode().splitlines()[0] == ",".join(IMPORT_COLUMNS)


def test_who_may_import_and_see(client_for, admin, program, artist, reviewer):
    treasurer = UserFactory(username="treasurer1")
    services.grant_role(actor=admin, program=program, user=treasurer, role="treasurer")
    job = services.imports.start_import(actor=reviewer, program=program, upload=csv_upload())
    client = client_for(treasurer)
    page = client.get(f"/programs/{program.pk}/imports/").content.decode()
    assert "Only a reviewer or manager" in page and 'type="file"' not in page
    client.post(f"/programs/{program.pk}/imports/", {"file": csv_upload()})
    assert ImportJob.objects.count() == 1
    assert client.get(f"/imports/{job.pk}/").status_code == 200
    assert client.post(f"/imports/{job.pk}/run/").status_code == 302  # refused: a message
    assert ImportJob.objects.count() == 1
    client = client_for(artist)  # a member, not staff
    assert client.get(f"/programs/{program.pk}/imports/").status_code == 403
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    other = make_program(admin, currency="EUR")
    client = client_for(reviewer)
    assert client.get(f"/programs/{other.pk}/imports/").status_code == 404
