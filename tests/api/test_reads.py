"""Reads: report visibility and withholding, statements, entries scoping, schema and docs."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from ledger import services
from tests.api.conftest import client_for, fields_of, problem
from tests.conftest import accepted_work, make_program

pytestmark = pytest.mark.django_db


def test_private_report_is_404_to_anonymous_and_non_members(anon, admin, artist, artist_api):
    private = make_program(admin)
    problem(anon.get(f"/api/v1/programs/{private.pk}/report/"), 404, "not_found")
    problem(artist_api.get(f"/api/v1/programs/{private.pk}/report/"), 404, "not_found")
    assert client_for(admin).get(f"/api/v1/programs/{private.pk}/report/").status_code == 200
    services.enroll_artist(actor=admin, program=private, artist=artist)
    assert artist_api.get(f"/api/v1/programs/{private.pk}/report/").status_code == 200


def test_public_report_withheld_below_min_contributors(anon, admin, settings):
    from tests.factories import UserFactory

    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 5
    public = make_program(admin, public=True)
    artists = [UserFactory() for _ in range(5)]
    for a in artists:
        services.enroll_artist(actor=admin, program=public, artist=a)
    for a in artists[:4]:
        accepted_work(public, a, admin)
    url = f"/api/v1/programs/{public.pk}/report/"
    body = anon.get(url).json()
    assert body["withheld"] is True
    assert body["contributors"] is None and body["valued"] is None
    assert body["median_days_to_payment"] is None and body["paid_ratio"] is None
    assert body["currency"] == "USD"
    # A member sees the figures whatever the count.
    member = client_for(artists[0]).get(url).json()
    assert member["withheld"] is False and member["contributors"] == 4
    # A signed-in reader who is neither member nor staff is withheld from, as anonymous is.
    outsider = client_for(UserFactory()).get(url).json()
    assert outsider["withheld"] is True and outsider["contributors"] is None
    accepted_work(public, artists[4], admin)
    body = anon.get(url).json()
    assert body["withheld"] is False and body["contributors"] == 5
    assert body["valued"] == "450.00" and body["outstanding"] == "450.00"
    assert body["paid_ratio"] == "0.0000" and body["median_days_to_payment"] is None


def test_report_paid_ahead_and_median(admin_api, admin, artist, artist2, program):
    accepted_work(program, artist, admin)  # 90.00
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=9000, kind="settlement"
    )
    services.record_payout(
        actor=admin, artist=artist2, program=program, amount_minor=1000, kind="grant"
    )
    body = admin_api.get(f"/api/v1/programs/{program.pk}/report/").json()
    assert body["valued"] == "90.00" and body["paid"] == "100.00"
    assert body["outstanding"] == "0.00" and body["paid_ahead"] == "10.00"
    assert body["grants"] == "10.00" and body["settlements"] == "90.00"
    assert body["median_days_to_payment"] == "0.0"
    assert body["paid_ratio"] == "1.1111"


def test_statement_rules(admin_api, artist_api, admin, artist, program):
    accepted_work(program, artist, admin)
    body = problem(admin_api.get(f"/api/v1/statements/?program={program.pk}"), 400)
    assert fields_of(body) == {"artist"}
    body = admin_api.get(f"/api/v1/statements/?program={program.pk}&artist={artist.pk}").json()
    assert body["closing_balance"] == "90.00"
    mine = artist_api.get(f"/api/v1/statements/?program={program.pk}&from=2999-01-01").json()
    assert mine["opening_balance"] == "90.00" and mine["lines"] == []
    assert mine["from"] == "2999-01-01" and mine["to"] is None
    body = problem(
        artist_api.get(f"/api/v1/statements/?program={program.pk}&from=2020-02-01&to=2020-01-01"),
        400,
    )
    assert fields_of(body) == {"to"}
    other = make_program(admin)
    problem(artist_api.get(f"/api/v1/statements/?program={other.pk}"), 404)


def test_entries_artist_sees_only_its_own(admin, artist, artist2, artist_api, program):
    accepted_work(program, artist, admin)
    accepted_work(program, artist2, admin)
    mine = artist_api.get("/api/v1/ledger/entries/").json()["results"]
    assert len(mine) == 1
    codes = {p["account"] for p in mine[0]["postings"]}
    assert any(code.endswith(f"a{artist.pk}") or str(artist.pk) in code for code in codes)
    assert artist_api.get(f"/api/v1/ledger/entries/?artist={artist2.pk}").json()["results"] == []
    both = client_for(admin).get(f"/api/v1/ledger/entries/?artist={artist2.pk}").json()
    assert len(both["results"]) == 1 and both["results"][0]["id"] != mine[0]["id"]


def test_verify_reports_a_tampered_row(admin_api, admin, artist, program):
    import pgtrigger
    from django.db.models import F

    from ledger.models import Posting

    accepted_work(program, artist, admin)
    assert admin_api.get(f"/api/v1/ledger/verify/?program={program.pk}").json()["ok"] is True
    with pgtrigger.ignore():  # behind the app's back (and past PostgreSQL's append-only triggers)
        Posting.objects.filter(program=program).update(amount_minor=F("amount_minor") * 2)
    body = admin_api.get(f"/api/v1/ledger/verify/?program={program.pk}").json()
    assert body["ok"] is False and body["problems"]
    problem(admin_api.get("/api/v1/ledger/verify/?program=999999"), 404)


def test_schema_is_valid_and_money_is_string():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_schema_served_and_describes_money_as_strings(anon):
    response = anon.get("/api/v1/schema/")  # JSON by default
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    yaml = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/yaml")
    assert yaml["Content-Type"].startswith("application/yaml")
    components = schema["components"]["schemas"]
    assert components["Payout"]["properties"]["amount"]["type"] == "string"
    assert components["PayoutCreateRequest"]["properties"]["amount"]["type"] == "string"
    assert components["Balance"]["properties"]["outstanding"]["type"] == "string"
    assert components["Contribution"]["properties"]["hours"]["type"] == "string"
    assert "/api/v1/payouts/{id}/void/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_work_offline_without_inline_script_or_style(anon):
    page = anon.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', html)).replace("?", "")
    for url in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
        assert finders.find(url.removeprefix("/static/")), url
    script_url = re.findall(r'<script src="([^"]*script[^"]*)"', html)[-1].replace("&amp;", "&")
    script = anon.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_docs_stylesheet_has_no_data_images(anon):
    css = anon.get("/api/v1/docs/swagger-ui.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    text = css.content.decode()
    assert "data:" not in text and 'url("img/0/")' in text
    svg = anon.get("/api/v1/docs/img/0/")
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/")
    problem(anon.get("/api/v1/docs/img/9999/"), 404)
