"""The lean list path: rows rendered by RowSerializer give exactly what DRF's declarative
serializers gave over model instances; lists issue no COUNT; page links hold on a boundary;
token authentication keeps its rules in its one plain query."""

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from accounts.models import ApiToken
from accounts.tokens import issue_token
from ledger import access, queries, services
from ledger.access import Role
from ledger.api import serializers as s
from ledger.api.auth import BearerTokenAuthentication
from ledger.models import Contribution, Entry, Membership, Payout
from ledger.queries import balances
from tests.api.conftest import client_for, problem
from tests.conftest import accepted_work, log_bug, log_feedback, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- The same declarations rendered the ordinary DRF way, for comparison -----------------


def declarative_twin(row_serializer):
    """A plain ModelSerializer with `row_serializer`'s declaration, rendering model instances
    field by field as DRF does: what the rows must equal, with no field listed twice."""
    attrs = {"Meta": row_serializer.Meta}
    for name, field in row_serializer._declared_fields.items():
        if isinstance(field, serializers.ListSerializer):
            attrs[name] = declarative_twin(type(field.child))(many=True, read_only=True)
        else:
            attrs[name] = copy.deepcopy(field)
    return type(f"Twin{row_serializer.__name__}", (serializers.ModelSerializer,), attrs)


ReferenceContribution = declarative_twin(s.ContributionSerializer)
ReferenceBalance = declarative_twin(s.BalanceSerializer)
ReferenceEntry = declarative_twin(s.EntrySerializer)
ReferencePayout = declarative_twin(s.PayoutSerializer)


@pytest.fixture
def ledger_of_everything(admin, artist, artist2, program):
    """USD and JPY work in every state, payouts and a void: every branch of the renderers."""
    yen = make_program(admin, currency="JPY", hourly="1500")
    services.enroll_artist(actor=admin, program=yen, artist=artist)
    accepted_work(program, artist, admin, hours="1.25")
    accepted_work(yen, artist, admin, hours="3")
    log_feedback(program, artist2, hours="0.5")
    log_bug(yen, artist, severity="critical")
    services.reject_contribution(
        contribution=log_bug(program, artist2), actor=admin, reason="duplicate"
    )
    services.reverse_contribution(
        contribution=accepted_work(program, artist2, admin), actor=admin, reason="mistake"
    )
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1234, kind="grant"
    )
    services.void_payout(payout=payout, actor=admin, reason="wrong artist")
    services.record_payout(
        actor=admin, artist=artist, program=yen, amount_minor=500, kind="settlement"
    )
    # An adjustment (an upheld valuation dispute) and an open dispute.
    reviewer = UserFactory(username="rows-reviewer")
    services.grant_role(actor=admin, program=program, user=reviewer, role="reviewer")
    dispute = services.open_dispute(
        actor=artist, subject=accepted_work(program, artist, admin), claim="valuation",
        statement="More.",
    )  # fmt: skip
    services.uphold_dispute(dispute=dispute, actor=reviewer, note="Yes.", hours=Decimal(3))
    services.open_dispute(
        actor=artist2,
        subject=services.reject_contribution(
            contribution=log_bug(program, artist2), actor=admin, reason="duplicate"
        ),
        claim="rejection",
        statement="Not a duplicate.",
        evidence_url="https://example.org/x",
    )
    return program, yen


def _results(api, url):
    response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]


def _as_json(data):
    """Through the renderer and back, as a client sees it."""
    import json

    from rest_framework.renderers import JSONRenderer

    return json.loads(JSONRenderer().render(data))


def test_contribution_rows_render_as_the_declarative_serializer_did(
    admin_api, ledger_of_everything
):
    got = _results(admin_api, "/api/v1/contributions/?page_size=100")
    instances = Contribution.objects.select_related("program").order_by("-submitted_at", "-id")
    assert got == _as_json(ReferenceContribution(instances, many=True).data)
    assert {c["currency"] for c in got} == {"USD", "JPY"}
    assert {c["status"] for c in got} >= {"accepted", "submitted", "rejected", "reversed"}
    one = got[0]
    detail = admin_api.get(f"/api/v1/contributions/{one['id']}/").json()
    assert detail == one


def test_balance_rows_render_as_the_declarative_serializer_did(admin_api, ledger_of_everything):
    got = _results(admin_api, "/api/v1/balances/?page_size=100")
    instances = queries.with_pay_deadlines(balances(Membership.objects.order_by("id")))
    assert got == _as_json(ReferenceBalance(instances, many=True).data)
    assert any(b["currency"] == "JPY" and b["settlements"] == "500" for b in got)
    assert any(b["pending_value"] != "0.00" for b in got if b["currency"] == "USD")


def test_entry_rows_render_as_the_declarative_serializer_did(admin_api, ledger_of_everything):
    got = _results(admin_api, "/api/v1/ledger/entries/?page_size=100")
    instances = Entry.objects.order_by("id").prefetch_related("postings__account")
    assert got == _as_json(ReferenceEntry(instances, many=True).data)
    assert all(len(e["postings"]) >= 2 for e in got)
    assert {p["amount"] for e in got for p in e["postings"]} >= {"-500", "12.34", "-12.34"}
    (adjustment,) = [e for e in got if e["kind"] == "adjustment"]
    assert adjustment["adjusts"] == Entry.objects.get(adjustments__isnull=False).pk
    assert adjustment["dispute"] is not None
    assert all(e["adjusts"] is e["dispute"] is None for e in got if e["kind"] != "adjustment")


def test_payout_rows_render_as_the_declarative_serializer_did(admin_api, ledger_of_everything):
    got = _results(admin_api, "/api/v1/payouts/?page_size=100")
    instances = Payout.objects.select_related("program").order_by("-paid_on", "-id")
    assert got == _as_json(ReferencePayout(instances, many=True).data)
    assert {p["status"] for p in got} == {"paid", "void"}
    assert admin_api.get(f"/api/v1/payouts/{got[0]['id']}/").json() == got[0]


@pytest.mark.parametrize(
    "serializer",
    [
        s.ContributionSerializer,
        s.BalanceSerializer,
        s.EntrySerializer,
        s.PayoutSerializer,
        s.DisputeSerializer,
    ],
)
def test_rows_have_exactly_the_declared_fields(serializer, admin_api, ledger_of_everything):
    """The schema (declared fields) and the rendering cannot drift apart."""
    url = {
        s.ContributionSerializer: "/api/v1/contributions/",
        s.BalanceSerializer: "/api/v1/balances/",
        s.EntrySerializer: "/api/v1/ledger/entries/",
        s.PayoutSerializer: "/api/v1/payouts/",
        s.DisputeSerializer: "/api/v1/disputes/",
    }[serializer]
    for row in _results(admin_api, url):
        assert list(row) == list(serializer().fields)


def test_timestamps_are_utc_with_z(admin_api, ledger_of_everything):
    row = _results(admin_api, "/api/v1/contributions/?status=accepted")[0]
    parsed = dt.datetime.fromisoformat(row["submitted_at"].replace("Z", "+00:00"))
    assert row["submitted_at"].endswith("Z") and parsed.utcoffset() == dt.timedelta(0)
    assert row["reviewed_at"].endswith("Z")


# --- Lists without COUNT ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/contributions/", "/api/v1/balances/", "/api/v1/payouts/"])
def test_page_lists_issue_no_count_query(url, admin_api, ledger_of_everything):
    with CaptureQueriesContext(connection) as queries:
        body = admin_api.get(url + "?page_size=1").json()
    assert "count" not in body
    assert body["next"] is not None
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_page_links_on_a_page_boundary(admin_api, admin, artist, program):
    for _ in range(4):
        log_bug(program, artist)
    url = "/api/v1/contributions/?page_size=2"
    first = admin_api.get(url).json()
    assert first["previous"] is None and "page=2" in first["next"]
    second = admin_api.get(first["next"]).json()
    # Exactly 4 rows: the second page is full and the last one.
    assert len(second["results"]) == 2 and second["next"] is None
    assert second["previous"].startswith("http") and "page=" not in second["previous"]
    ids = [c["id"] for c in first["results"] + second["results"]]
    assert len(set(ids)) == 4
    log_bug(program, artist)  # one more row: now there is a third page
    second = admin_api.get(first["next"]).json()
    third = admin_api.get(second["next"]).json()
    assert len(third["results"]) == 1 and third["next"] is None
    assert "page=2" in third["previous"]
    # Past the end, not a number, not positive: 404 problems, as before.
    for page in ("4", "abc", "0", "-1", "99999999999999999999999"):
        problem(admin_api.get(f"{url}&page={page}"), 404, "not_found")
    # An empty list is still a page.
    empty = admin_api.get("/api/v1/contributions/?status=withdrawn").json()
    assert empty == {"next": None, "previous": None, "results": []}


def test_schema_lists_have_no_count(anon):
    schema = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    paged = [
        name
        for name, component in schema["components"]["schemas"].items()
        if name.startswith("Paginated")
    ]
    assert paged
    for name in paged:
        properties = schema["components"]["schemas"][name]["properties"]
        assert set(properties) == {"next", "previous", "results"}, name


# --- Token authentication -----------------------------------------------------------------


def test_token_last_used_is_refreshed_at_most_once_a_minute(artist):
    api = client_for(artist)
    token = ApiToken.objects.get(user=artist)
    assert token.last_used_at is None
    assert api.get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < dt.timedelta(seconds=30)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/me/").status_code == 200
    assert not [q for q in queries if q["sql"].upper().startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first
    stale = timezone.now() - dt.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    assert api.get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > stale + dt.timedelta(minutes=1)


def test_token_auth_rejects_inactive_users_and_is_one_query(artist):
    api = client_for(artist)
    api.get("/api/v1/me/")  # last_used_at now fresh: no update below
    with CaptureQueriesContext(connection) as queries:
        me = api.get("/api/v1/me/").json()
    assert me["username"] == artist.username and me["role"] == "artist"
    # One query authenticates (token and user together); /me/ then reads the caller's roles,
    # Django permissions and whether it has a second factor, which no other route needs.
    assert sum("accounts_apitoken" in q["sql"] for q in queries.captured_queries) == 1
    assert len(queries) <= 5
    artist.is_active = False
    artist.save(update_fields=["is_active"])
    problem(api.get("/api/v1/me/"), 401, "authentication_failed")


def test_token_login_reads_the_callers_roles_in_its_one_statement(admin, artist, artist2, program):
    """A staff member's request reads its roles with its login, in the one statement: the same
    roles `ledger.access` reads on its own, and they take effect."""
    other = make_program(admin, currency="JPY")
    services.grant_role(actor=admin, program=program, user=artist, role="auditor")
    services.grant_role(actor=admin, program=other, user=artist, role="reviewer")
    services.grant_role(actor=admin, program=other, user=artist, role="treasurer")
    api = client_for(artist)
    api.get("/api/v1/balances/")  # last_used_at now fresh: no update below
    with CaptureQueriesContext(connection) as queries:
        rows = api.get("/api/v1/balances/").json()["results"]
    assert {(row["artist"], row["program"]) for row in rows} == {
        (artist.pk, program.pk),
        (artist2.pk, program.pk),  # an auditor of `program` sees every member's balance
    }
    reads = [q["sql"] for q in queries.captured_queries if "ledger_staffrole" in q["sql"]]
    assert len(reads) == 1 and "accounts_apitoken" in reads[0]

    def login(user):
        _, secret = issue_token(user=user, name="test")
        request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {secret}")
        return BearerTokenAuthentication().authenticate(request)[0]

    staff = login(artist)
    held = {program.pk: {Role.AUDITOR}, other.pk: {Role.REVIEWER, Role.TREASURER}}
    assert staff._ledger_roles == held
    access.forget(staff)
    assert access.roles_of(staff) == held
    assert login(UserFactory(username="nobody"))._ledger_roles == {}


def test_token_expiring_later_still_works(artist):
    api = client_for(artist)
    soon = timezone.now() + dt.timedelta(minutes=5)
    ApiToken.objects.filter(user=artist).update(expires_at=soon)
    assert api.get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(user=artist).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    problem(api.get("/api/v1/me/"), 401, "authentication_failed")


def test_balance_rows_filter_and_stay_within_what_an_artist_may_see(
    admin_api, artist_api, admin, artist, artist2, program
):
    """/balances/ is plain SQL (queries.balance_rows): its filters and visibility, by hand."""
    other = make_program(admin, currency="JPY")
    services.enroll_artist(actor=admin, program=other, artist=artist2)
    log_bug(program, artist)  # pending value for the artist in `program`

    def pairs(api, query=""):
        rows = api.get(f"/api/v1/balances/{query}").json()["results"]
        return [(row["artist"], row["program"], row["pending_value"]) for row in rows]

    assert pairs(admin_api) == [
        (artist.pk, program.pk, "200.00"),
        (artist2.pk, program.pk, "0.00"),
        (artist2.pk, other.pk, "0"),
    ]
    assert pairs(admin_api, f"?artist={artist2.pk}&program={other.pk}") == [
        (artist2.pk, other.pk, "0")
    ]
    assert pairs(artist_api) == [(artist.pk, program.pk, "200.00")]
    assert pairs(artist_api, f"?artist={artist2.pk}") == []
    assert pairs(artist_api, f"?program={other.pk}") == []


def test_contribution_rows_filter_and_stay_within_what_an_artist_may_see(
    admin_api, artist_api, admin, artist, artist2, program
):
    """/contributions/ is plain SQL (queries.contribution_rows): filters, visibility, order."""
    mine = log_feedback(program, artist, hours="1.25")
    bug = log_bug(program, artist)
    theirs = log_feedback(program, artist2)
    services.accept_contribution(contribution=mine, actor=admin)

    def ids(api, query=""):
        return [row["id"] for row in api.get(f"/api/v1/contributions/{query}").json()["results"]]

    assert ids(admin_api) == [theirs.pk, bug.pk, mine.pk]  # newest submission first
    assert ids(admin_api, f"?artist={artist2.pk}") == [theirs.pk]
    assert ids(admin_api, "?status=accepted") == [mine.pk]
    assert ids(admin_api, f"?kind=bug_report&program={program.pk}") == [bug.pk]
    assert ids(artist_api) == [bug.pk, mine.pk]
    assert ids(artist_api, f"?artist={artist2.pk}") == []
    row = admin_api.get("/api/v1/contributions/?status=accepted").json()["results"][0]
    assert (row["hours"], row["value"], row["currency"]) == ("1.25", "56.25", "USD")
    assert row["reviewed_at"].endswith("Z") and row["occurred_on"] == mine.occurred_on.isoformat()


def test_contribution_detail_is_the_list_row_and_404s_what_it_cannot_be(
    admin_api, artist_api, artist2_api, artist, program
):
    """The detail and the review actions answer with a row of queries.contribution_rows."""
    contribution = log_feedback(program, artist)
    url = f"/api/v1/contributions/{contribution.pk}/"
    (listed,) = artist_api.get("/api/v1/contributions/").json()["results"]
    assert artist_api.get(url).json() == listed == admin_api.get(url).json()
    problem(artist2_api.get(url), 404, "not_found")  # another artist's work
    for bad in ("abc", "0", str(2**63), "9" * 30, "-1"):
        problem(admin_api.get(f"/api/v1/contributions/{bad}/"), 404, "not_found")


def test_entry_rows_are_the_visible_entries_of_every_reader(admin, artist, artist2, program):
    """/ledger/entries/ is plain SQL (queries.entry_rows): the same entries as the ORM's
    `visible_entries` for an operator, a program's auditor who is an artist elsewhere, an
    artist and a user with neither, under every filter; paged by id either way."""
    other = make_program(admin, currency="JPY")
    auditor = UserFactory(username="auditor1")
    services.grant_role(actor=admin, program=other, user=auditor, role="auditor")
    services.enroll_artist(actor=admin, program=program, artist=auditor)
    services.enroll_artist(actor=admin, program=other, artist=artist2)
    for who in (artist, artist2, auditor):
        accepted_work(program, who, admin)
    accepted_work(other, artist2, admin)
    services.record_payout(
        actor=admin, artist=artist2, program=other, amount_minor=300, kind="grant"
    )
    nobody = UserFactory(username="nobody")

    def sql_ids(user, **filters):
        return [row["id"] for row in queries.entry_rows(user, **filters)[0:1000]]

    def orm_ids(user, **filters):
        entries = queries.visible_entries(user, **filters).order_by("id")
        return list(entries.values_list("id", flat=True))

    filters = [{}, {"program_id": program.pk}, {"program_id": other.pk}]
    filters += [{"artist_id": a.pk} for a in (artist, artist2, auditor)]
    filters += [{"program_id": program.pk, "artist_id": artist2.pk}]
    seen = {}
    for user in (admin, auditor, artist, artist2, nobody):
        for given in filters:
            assert sql_ids(user, **given) == orm_ids(user, **given), (user, given)
        seen[user.username] = sql_ids(user)
    assert seen["admin1"] == list(Entry.objects.order_by("id").values_list("id", flat=True))
    assert len(seen["admin1"]) > len(seen["auditor1"]) and seen["nobody"] == []
    # The auditor: every entry of its program, and in the other only those about itself.
    own = set(queries.visible_entries(auditor, artist_id=auditor.pk).values_list("id", flat=True))
    everything_of_other = set(Entry.objects.filter(program=other).values_list("id", flat=True))
    assert set(seen["auditor1"]) == everything_of_other | own

    # The calls a cursor page makes: order by the key either way, then before or after it.
    rows = queries.entry_rows(admin)
    ids = seen["admin1"]
    assert [r["id"] for r in rows.order_by("id").filter(id__gt=str(ids[1]))[0:2]] == ids[2:4]
    assert [r["id"] for r in rows.order_by("-id").filter(id__lt=ids[3])[0:2]] == [ids[2], ids[1]]
    with pytest.raises(ValueError):
        rows.order_by("seq")
