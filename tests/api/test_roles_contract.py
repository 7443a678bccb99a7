"""The v1.1 rules of roles per program, program settings and payout approval, checked as a
client that knows only the contract: what each role sees, what it may write, separation of
duties, the last manager, program settings, the life of a proposal and v1 compatibility."""

import datetime as dt

import pytest

from accounts.models import User
from ledger import clock, services
from ledger.models import Entry, Payout
from tests.api.conftest import client_for, fields_of, problem
from tests.api.roles_world import STAFF_A, THRESHOLD_MINOR, build_world
from tests.api.test_authorization_matrix import ROUTES
from tests.conftest import accepted_work, log_feedback, make_program
from tests.factories import PASSWORD, UserFactory

API = "/api/v1"


@pytest.fixture
def world(db):
    return build_world()


def rows(client, path):
    """Every row of a list, following `next`."""
    found, url = [], f"{API}{path}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        body = response.json()
        found.extend(body["results"] if isinstance(body, dict) else body)
        url = body.get("next") if isinstance(body, dict) else None
    return found


def sod(response):
    """Assert a 403 for separation of duties."""
    body = problem(response, 403, "permission_denied")
    assert body["errors"][0]["code"] == "separation_of_duties", body
    return body


# --- Visibility --------------------------------------------------------------------------


LISTS = {  # list path → how a row names its program
    "/contributions/": "program",
    "/payouts/": "program",
    "/balances/": "program",
    "/ledger/entries/": "program",
}


@pytest.mark.django_db
def test_staff_of_b_see_nothing_of_a(world):
    a, b = world.a.pk, world.b.pk
    staff_b = client_for(world.staff_b)
    for path, key in LISTS.items():
        programs = {row[key] for row in rows(staff_b, path)}
        assert programs == {b}, path
        # Naming A (or A's artist) in the filters finds nothing either.
        assert rows(staff_b, f"{path}?program={a}") == [], path
        assert rows(staff_b, f"{path}?artist={world.artist.pk}") == [], path
    assert [p["id"] for p in rows(staff_b, "/programs/")] == [b]
    seen = {u["id"] for u in rows(staff_b, "/artists/")}
    assert world.artist.pk not in seen and world.peer.pk not in seen
    assert world.artist_b.pk in seen
    work, grant = world.objects["work"], world.objects["grant"]
    for path in (
        f"/programs/{a}/",
        f"/programs/{a}/rate-cards/",
        f"/programs/{a}/members/",
        f"/programs/{a}/staff/",
        f"/programs/{a}/report/",
        f"/contributions/{work.pk}/",
        f"/payouts/{grant.pk}/",
        f"/artists/{world.artist.pk}/",
        f"/statements/?program={a}&artist={world.artist.pk}",
        f"/statements/?program={a}&artist={world.artist.pk}&format=csv",
        f"/ledger/verify/?program={a}",
        f"/ledger/export/?program={a}&format=beancount",
        f"/exports/outstanding/?program={a}",
        f"/exports/payout-batch/?program={a}&paid_on={clock.today()}",
    ):
        problem(staff_b.get(f"{API}{path}"), 404, "not_found")
    # Writes on A's objects are 404s too, never a 403 that says they exist.
    for path, body in (
        (f"/contributions/{world.submitted().pk}/accept/", {}),
        (f"/payouts/{world.proposal().pk}/approve/", {}),
        (f"/payouts/{grant.pk}/void/", {"reason": "x"}),
        (f"/programs/{a}/staff/", {"user": world.staff_b.pk, "role": "auditor"}),
        (f"/programs/{a}/members/", {"artist": world.artist_b.pk}),
    ):
        problem(staff_b.post(f"{API}{path}", body, "json"), 404, "not_found")
    problem(staff_b.patch(f"{API}/programs/{a}/", {"name": "Mine"}, "json"), 404)


@pytest.mark.django_db
def test_every_staff_role_of_a_reads_all_of_a_and_nothing_of_b(world):
    operator = client_for(world.operator)
    everything = {path: rows(operator, f"{path}?program={world.a.pk}") for path in LISTS}
    for role in STAFF_A:
        staff = client_for(world.people[role])
        for path, key in LISTS.items():
            seen = rows(staff, path)
            assert {row[key] for row in seen} == {world.a.pk}, (role, path)
            assert seen == everything[path], (role, path)
        for path in (
            f"/ledger/verify/?program={world.a.pk}",
            f"/ledger/export/?program={world.a.pk}&format=hledger",
            f"/exports/outstanding/?program={world.a.pk}",
            f"/statements/?program={world.a.pk}&artist={world.peer.pk}",
            f"/programs/{world.a.pk}/staff/",
        ):
            assert staff.get(f"{API}{path}").status_code == 200, (role, path)
        members = rows(staff, f"/programs/{world.a.pk}/members/")
        assert {m["artist"] for m in members} == {world.artist.pk, world.peer.pk}, role
        problem(staff.get(f"{API}/ledger/verify/?program={world.b.pk}"), 404)


@pytest.mark.django_db
def test_an_artist_sees_only_its_own_rows(world):
    me = client_for(world.artist)
    for path in LISTS:
        seen = rows(me, path)
        assert seen, path
        if path != "/ledger/entries/":
            assert {row["artist"] for row in seen} == {world.artist.pk}, path
    entry_ids = {e["id"] for e in rows(me, "/ledger/entries/")}
    peer_entry = Entry.objects.get(contribution=world.objects["peer_work"])
    assert peer_entry.pk not in entry_ids
    problem(me.get(f"{API}/statements/?program={world.a.pk}&artist={world.peer.pk}"), 404)
    problem(me.get(f"{API}/contributions/{world.objects['peer_work'].pk}/"), 404)


@pytest.mark.django_db
def test_report_withholding_for_staff_members_and_everyone_else(world, settings):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 5
    services.update_program(actor=world.operator, program=world.a, public=True)
    report = f"{API}/programs/{world.a.pk}/report/"
    readers = {
        "anon": True,
        "artist_b": True,  # signed in, but neither member nor staff of A
        "staff_b": True,  # staff, of another program
        "artist": False,
        "peer": False,
        **dict.fromkeys(STAFF_A, False),
        "operator": False,
    }
    for name, withheld in readers.items():
        body = client_for(world.people[name]).get(report).json()
        assert body["withheld"] is withheld, name
        assert (body["valued"] is None) is withheld, name
    # Private again: a 404 to everyone outside A.
    services.update_program(actor=world.operator, program=world.a, public=False)
    for name in ("anon", "artist_b", "staff_b"):
        problem(client_for(world.people[name]).get(report), 404)


# --- The auditor -------------------------------------------------------------------------


def test_the_matrix_gives_the_auditor_no_write():
    """Every route that writes (anything but GET) refuses the auditor, except its own tokens,
    its own inbox and preferences, and checking a statement (a POST that writes nothing)."""
    own = {
        ("token-list", "POST"),
        ("token-detail", "DELETE"),
        ("token-revoke-all", "POST"),
        ("statement-verify", "POST"),
        ("notification-read-all", "POST"),
        ("me-preferences", "PATCH"),
    }
    for key, route in ROUTES.items():
        if key[1] == "GET" or key in own:
            continue
        assert route.statuses()["auditor"] in (400, 403, 404, 405), key


@pytest.mark.django_db
def test_the_auditor_writes_nothing(world):
    auditor = client_for(world.auditor)
    a = world.a.pk
    before = (Entry.objects.count(), Payout.objects.count())
    for path, body in (
        (f"/contributions/{world.submitted().pk}/accept/", {}),
        (f"/contributions/{world.submitted().pk}/reject/", {"reason": "no"}),
        (f"/contributions/{world.accepted().pk}/reverse/", {"reason": "no"}),
        (f"/payouts/{world.proposal().pk}/approve/", {}),
        (f"/payouts/{world.proposal().pk}/decline/", {"reason": "no"}),
        (f"/payouts/{world.objects['grant'].pk}/void/", {"reason": "no"}),
        ("/payouts/", {"artist": world.artist.pk, "program": a, "amount": "1", "kind": "grant"}),
        (f"/programs/{a}/staff/", {"user": world.auditor.pk, "role": "manager"}),
        (f"/programs/{a}/members/", {"artist": world.artist_b.pk}),
        ("/programs/", {"name": "Mine", "currency": "USD"}),
    ):
        problem(auditor.post(f"{API}{path}", body, "json"), 403, "permission_denied")
    problem(auditor.patch(f"{API}/programs/{a}/", {"public": True}, "json"), 403)
    problem(auditor.delete(f"{API}/programs/{a}/staff/{world.staff_row().pk}/"), 403)
    entries_now = Entry.objects.count()
    assert entries_now == before[0] + 1  # world.accepted() posted one; the auditor nothing
    assert Payout.objects.count() == before[1] + 2  # the two proposals built above


# --- Separation of duties ----------------------------------------------------------------


@pytest.mark.django_db
def test_nobody_reviews_their_own_work(world):
    services.enroll_artist(actor=world.operator, program=world.a, artist=world.reviewer)
    mine = log_feedback(world.a, world.reviewer)
    reviewer = client_for(world.reviewer)
    for action, body in (("accept", {}), ("reject", {"reason": "x"})):
        sod(reviewer.post(f"{API}/contributions/{mine.pk}/{action}/", body, "json"))
    done = accepted_work(world.a, world.reviewer, world.operator)
    sod(reviewer.post(f"{API}/contributions/{done.pk}/reverse/", {"reason": "x"}, "json"))
    # Logging work for itself is fine; it is the review that is someone else's.
    assert client_for(world.reviewer).get(f"{API}/contributions/{mine.pk}/").status_code == 200


@pytest.mark.django_db
def test_nobody_pays_themselves(world):
    services.enroll_artist(actor=world.operator, program=world.a, artist=world.treasurer)
    accepted_work(world.a, world.treasurer, world.operator)
    treasurer = client_for(world.treasurer)
    for kind, amount in (("grant", "5"), ("settlement", "5"), ("grant", "1000")):
        body = {"artist": world.treasurer.pk, "program": world.a.pk, "amount": amount}
        sod(treasurer.post(f"{API}/payouts/", body | {"kind": kind}, "json"))
    assert not Payout.objects.filter(artist=world.treasurer).exists()
    # Nor approves a proposal to itself that another treasurer made.
    to_me = services.record_payout(
        actor=world.treasurer2,
        artist=world.treasurer,
        program=world.a,
        amount_minor=THRESHOLD_MINOR,
        kind="grant",
    )
    sod(treasurer.post(f"{API}/payouts/{to_me.pk}/approve/", {}, "json"))
    # An operator who is also a member is bound the same way.
    services.enroll_artist(actor=world.operator, program=world.a, artist=world.operator)
    body = {"artist": world.operator.pk, "program": world.a.pk, "amount": "1", "kind": "grant"}
    sod(client_for(world.operator).post(f"{API}/payouts/", body, "json"))


@pytest.mark.django_db
def test_the_proposer_neither_approves_nor_declines(world):
    proposal = world.proposal()
    proposer = client_for(world.treasurer2)
    sod(proposer.post(f"{API}/payouts/{proposal.pk}/approve/", {}, "json"))
    sod(proposer.post(f"{API}/payouts/{proposal.pk}/decline/", {"reason": "x"}, "json"))
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    # A proposal made through the API names its proposer.
    body = {"artist": world.artist.pk, "program": world.a.pk, "amount": "1000", "kind": "grant"}
    made = client_for(world.treasurer).post(f"{API}/payouts/", body, "json").json()
    assert made["status"] == "proposed" and made["proposed_by"] == world.treasurer.pk
    sod(client_for(world.treasurer).post(f"{API}/payouts/{made['id']}/approve/", {}, "json"))


# --- Staff: granting, revoking, the last manager ------------------------------------------


@pytest.mark.django_db
def test_granting_and_revoking_a_role_through_the_api(world):
    manager = client_for(world.manager)
    staff_path = f"{API}/programs/{world.a.pk}/staff/"
    newcomer = UserFactory()
    outsider = client_for(newcomer)
    problem(outsider.get(staff_path), 404)
    # Someone the manager does not see (no member or accepted invitee of its programs) is
    # "no such user": a manager cannot probe accounts by id; such people join by invitation.
    unseen = manager.post(staff_path, {"user": newcomer.pk, "role": "auditor"}, "json")
    assert fields_of(problem(unseen, 400)) == {"user"}
    services.enroll_artist(actor=world.operator, program=world.a, artist=newcomer)
    r = manager.post(staff_path, {"user": newcomer.pk, "role": "auditor"}, "json")
    assert r.status_code == 201, r.content
    row = r.json()
    assert set(row) == {"id", "user", "display_name", "role", "granted_at", "granted_by"}
    assert row["granted_by"] == world.manager.pk and row["role"] == "auditor"
    me = outsider.get(f"{API}/me/").json()
    assert me["role"] == "admin"
    assert me["staff_roles"] == [{"program": world.a.pk, "role": "auditor"}]
    assert outsider.get(staff_path).status_code == 200  # at its next request
    assert rows(outsider, f"/contributions/?program={world.a.pk}")
    again = manager.post(staff_path, {"user": newcomer.pk, "role": "auditor"}, "json")
    assert fields_of(problem(again, 400)) == {"role"}
    bad = manager.post(staff_path, {"user": newcomer.pk, "role": "owner"}, "json")
    assert fields_of(problem(bad, 400)) == {"role"}
    nobody = manager.post(staff_path, {"user": 10**9, "role": "auditor"}, "json")
    assert fields_of(problem(nobody, 400)) == {"user"}
    assert manager.delete(f"{staff_path}{row['id']}/").status_code == 204
    problem(outsider.get(staff_path), 403)  # gone at its next request: a member again
    assert all(row["artist"] == newcomer.pk for row in rows(outsider, "/contributions/"))
    assert outsider.get(f"{API}/me/").json()["role"] == "artist"
    problem(manager.delete(f"{staff_path}{row['id']}/"), 404)
    # A row of another program is not found under this one.
    b_row = world.b.staff_roles.filter(user=world.staff_b).first()
    problem(client_for(world.operator).delete(f"{staff_path}{b_row.pk}/"), 404)


@pytest.mark.django_db
def test_the_last_manager_cannot_be_removed(world):
    staff_path = f"{API}/programs/{world.a.pk}/staff/"
    operator_row = world.a.staff_roles.get(user=world.operator, role="manager")
    manager_row = world.a.staff_roles.get(user=world.manager, role="manager")
    manager = client_for(world.manager)
    assert manager.delete(f"{staff_path}{operator_row.pk}/").status_code == 204
    problem(manager.delete(f"{staff_path}{manager_row.pk}/"), 409, "invalid_transition")
    problem(
        client_for(world.operator).delete(f"{staff_path}{manager_row.pk}/"),
        409,
        "invalid_transition",
    )
    assert world.a.staff_roles.filter(role="manager").count() == 1
    # Its other roles come and go freely.
    extra = services.grant_role(
        actor=world.manager, program=world.a, user=world.manager, role="auditor"
    )
    assert manager.delete(f"{staff_path}{extra.pk}/").status_code == 204


@pytest.mark.django_db
def test_a_fresh_program_has_its_creator_as_only_manager(world):
    creator = UserFactory()
    from django.contrib.auth.models import Permission

    creator.user_permissions.add(Permission.objects.get(codename="add_program"))
    api = client_for(creator)
    assert api.get(f"{API}/me/").json()["can_create_programs"] is True
    r = api.post(f"{API}/programs/", {"name": "Own", "currency": "JPY"}, "json")
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    staff = api.get(f"{API}/programs/{pid}/staff/").json()
    assert [(s["user"], s["role"]) for s in staff] == [(creator.pk, "manager")]
    problem(api.delete(f"{API}/programs/{pid}/staff/{staff[0]['id']}/"), 409, "invalid_transition")
    # Other programs stay invisible to it.
    problem(api.get(f"{API}/programs/{world.a.pk}/"), 404)


# --- Program settings --------------------------------------------------------------------


@pytest.mark.django_db
def test_program_settings(world):
    manager = client_for(world.manager)
    path = f"{API}/programs/{world.a.pk}/"
    r = manager.patch(path, {"currency": "EUR"}, "json")
    assert fields_of(problem(r, 400)) == {"currency"}
    assert manager.patch(path, {"currency": "USD"}, "json").status_code == 200
    for bad in ("0", "-5", "1.001", "abc", 1000, "1e3", "NaN", ""):
        r = manager.patch(path, {"approval_threshold": bad}, "json")
        assert fields_of(problem(r, 400)) == {"approval_threshold"}, bad
    r = manager.patch(path, {"approval_threshold": "250.5"}, "json")
    assert r.status_code == 200 and r.json()["approval_threshold"] == "250.50", r.content
    assert manager.get(path).json()["approval_threshold"] == "250.50"
    r = manager.patch(path, {"approval_threshold": None}, "json")
    assert r.json()["approval_threshold"] is None
    r = manager.patch(path, {"name": "  "}, "json")
    assert fields_of(problem(r, 400)) == {"name"}
    r = manager.patch(path, {"status": "paused"}, "json")
    assert fields_of(problem(r, 400)) == {"status"}
    r = manager.patch(path, {"name": "Renamed", "public": True, "description": "d"}, "json")
    assert r.status_code == 200
    assert {k: r.json()[k] for k in ("name", "public", "description", "currency")} == {
        "name": "Renamed",
        "public": True,
        "description": "d",
        "currency": "USD",
    }
    for role in ("reviewer", "treasurer", "auditor", "artist"):
        problem(client_for(world.people[role]).patch(path, {"name": "x"}, "json"), 403)
    # A threshold in a currency without minor units.
    jpy = make_program(world.operator, currency="JPY")
    jpy_path = f"{API}/programs/{jpy.pk}/"
    operator = client_for(world.operator)
    r = operator.patch(jpy_path, {"approval_threshold": "1000.5"}, "json")
    assert fields_of(problem(r, 400)) == {"approval_threshold"}
    assert (
        operator.patch(jpy_path, {"approval_threshold": "1000"}, "json").json()[
            "approval_threshold"
        ]
        == "1000"
    )


@pytest.mark.django_db
def test_a_closed_program_takes_no_new_work_but_still_reviews_and_pays(world):
    pending = world.objects["pending"]
    services.update_program(actor=world.manager, program=world.a, status="closed")
    body = {
        "program": world.a.pk,
        "kind": "feedback",
        "hours": "1",
        "title": "Late",
        "occurred_on": clock.today().isoformat(),
    }
    r = client_for(world.artist).post(f"{API}/contributions/", body, "json")
    assert fields_of(problem(r, 400)) == {"program"}
    r = client_for(world.reviewer).post(
        f"{API}/contributions/", body | {"artist": world.artist.pk}, "json"
    )
    assert fields_of(problem(r, 400)) == {"program"}
    r = client_for(world.reviewer).post(f"{API}/contributions/{pending.pk}/accept/", {}, "json")
    assert r.status_code == 200, r.content
    pay = {"artist": world.artist.pk, "program": world.a.pk, "amount": "5", "kind": "settlement"}
    assert client_for(world.treasurer).post(f"{API}/payouts/", pay, "json").status_code == 201


# --- The life of a proposal --------------------------------------------------------------


def _figures(world):
    """What every read says A paid `artist`: balance row, report, statement, entries."""
    operator = client_for(world.operator)
    a, artist = world.a.pk, world.artist.pk
    (balance,) = rows(operator, f"/balances/?program={a}&artist={artist}")
    report = operator.get(f"{API}/programs/{a}/report/").json()
    statement = operator.get(f"{API}/statements/?program={a}&artist={artist}").json()
    return {
        "paid": balance["paid"],
        "outstanding": balance["outstanding"],
        "report_paid": report["paid"],
        "statement_lines": len(statement["lines"]),
        "closing": statement["closing_balance"],
        "entries": len(rows(operator, f"/ledger/entries/?program={a}")),
    }


@pytest.mark.django_db
def test_a_proposal_counts_nowhere_until_approved(world):
    treasurer, treasurer2 = client_for(world.treasurer), client_for(world.treasurer2)
    before = _figures(world)
    body = {"artist": world.artist.pk, "program": world.a.pk, "kind": "grant"}
    below = treasurer2.post(f"{API}/payouts/", body | {"amount": "999.99"}, "json").json()
    assert below["status"] == "paid" and below["proposed_by"] is None
    after_paid = _figures(world)
    assert after_paid["entries"] == before["entries"] + 1
    r = treasurer2.post(f"{API}/payouts/", body | {"amount": "1000"}, "json")
    assert r.status_code == 201, r.content
    proposal = r.json()
    assert proposal["status"] == "proposed"
    assert proposal["approved_by"] is None and proposal["approved_at"] is None
    assert _figures(world) == after_paid  # no entry, not paid anywhere
    assert not Entry.objects.filter(payout_id=proposal["id"]).exists()
    listed = {p["id"]: p["status"] for p in rows(treasurer, f"/payouts/?program={world.a.pk}")}
    assert listed[proposal["id"]] == "proposed"
    problem(treasurer.post(f"{API}/payouts/{proposal['id']}/void/", {"reason": "x"}, "json"), 409)

    r = treasurer.post(f"{API}/payouts/{proposal['id']}/approve/", {}, "json")
    assert r.status_code == 200, r.content
    approved = r.json()
    assert approved["status"] == "paid"
    assert approved["approved_by"] == world.treasurer.pk and approved["approved_at"]
    assert approved["paid_on"] == clock.today().isoformat()
    figures = _figures(world)
    assert figures["entries"] == after_paid["entries"] + 1
    assert figures["statement_lines"] == after_paid["statement_lines"] + 1
    assert figures["paid"] != after_paid["paid"]
    assert figures["report_paid"] == "2000.99"  # 1.00 (the world's grant) + 999.99 + 1,000.00
    # The report kept between reads agrees with one computed from scratch.
    from ledger.queries import median_days_to_payment, program_report

    assert program_report(world.a).median_days_to_payment == median_days_to_payment(world.a)
    assert Entry.objects.filter(payout_id=proposal["id"]).count() == 1
    r = client_for(world.operator).post(f"{API}/payouts/{proposal['id']}/approve/", {}, "json")
    problem(r, 409, "invalid_transition")
    r = treasurer.post(f"{API}/payouts/{proposal['id']}/decline/", {"reason": "x"}, "json")
    problem(r, 409, "invalid_transition")
    assert Entry.objects.filter(payout_id=proposal["id"]).count() == 1
    # Approved, it voids like any payout.
    r = treasurer.post(f"{API}/payouts/{proposal['id']}/void/", {"reason": "typo"}, "json")
    assert r.status_code == 200 and r.json()["status"] == "void"
    verify = client_for(world.auditor).get(f"{API}/ledger/verify/?program={world.a.pk}")
    assert verify.json()["ok"] is True


@pytest.mark.django_db
def test_a_declined_proposal_posts_nothing(world):
    proposal = world.proposal()
    before = _figures(world)
    treasurer = client_for(world.treasurer)
    path = f"{API}/payouts/{proposal.pk}/decline/"
    assert fields_of(problem(treasurer.post(path, {}, "json"), 400)) == {"reason"}
    r = treasurer.post(path, {"reason": "Wrong artist"}, "json")
    assert r.status_code == 200, r.content
    declined = r.json()
    assert declined["status"] == "declined"
    assert declined["declined_by"] == world.treasurer.pk
    assert declined["decline_reason"] == "Wrong artist"
    assert _figures(world) == before
    problem(treasurer.post(path, {"reason": "again"}, "json"), 409, "invalid_transition")
    problem(treasurer.post(f"{API}/payouts/{proposal.pk}/approve/", {}, "json"), 409)
    assert not Entry.objects.filter(payout=proposal).exists()


@pytest.mark.django_db
def test_a_settlement_over_the_balance_at_approval_stays_proposed(world):
    accepted_work(world.a, world.artist, world.operator, hours="24")  # + 1,080.00 owed
    services.update_program(actor=world.operator, program=world.a, approval_threshold_minor=50_000)
    treasurer2 = client_for(world.treasurer2)
    body = {"artist": world.artist.pk, "program": world.a.pk, "kind": "settlement"}
    # Over what is owed already when proposed: refused at once.
    r = treasurer2.post(f"{API}/payouts/", body | {"amount": "5000"}, "json")
    problem(r, 409, "insufficient_balance")
    first = treasurer2.post(f"{API}/payouts/", body | {"amount": "800"}, "json").json()
    second = treasurer2.post(f"{API}/payouts/", body | {"amount": "800"}, "json").json()
    assert first["status"] == second["status"] == "proposed"
    treasurer = client_for(world.treasurer)
    assert treasurer.post(f"{API}/payouts/{first['id']}/approve/", {}, "json").status_code == 200
    before = _figures(world)
    r = treasurer.post(f"{API}/payouts/{second['id']}/approve/", {}, "json")
    problem(r, 409, "insufficient_balance")
    assert Payout.objects.get(pk=second["id"]).status == "proposed"
    assert _figures(world) == before
    # More work valued later: the same proposal may then be approved.
    accepted_work(world.a, world.artist, world.operator, hours="24")
    r = treasurer.post(f"{API}/payouts/{second['id']}/approve/", {}, "json")
    assert r.status_code == 200, r.content


@pytest.mark.django_db
def test_the_threshold_applies_from_when_it_is_set(world):
    services.update_program(actor=world.manager, program=world.a, approval_threshold_minor=None)
    treasurer = client_for(world.treasurer)
    body = {"artist": world.artist.pk, "program": world.a.pk, "kind": "grant"}
    assert (
        treasurer.post(f"{API}/payouts/", body | {"amount": "5000"}, "json").json()["status"]
        == "paid"
    )
    client_for(world.manager).patch(
        f"{API}/programs/{world.a.pk}/", {"approval_threshold": "10"}, "json"
    )
    assert (
        treasurer.post(f"{API}/payouts/", body | {"amount": "10"}, "json").json()["status"]
        == "proposed"
    )
    assert (
        treasurer.post(f"{API}/payouts/", body | {"amount": "9.99"}, "json").json()["status"]
        == "paid"
    )


# --- v1 compatibility --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_superusers_token_runs_a_v1_flow_unchanged(anon, world):
    # A superuser made as `createsuperuser` makes one: no roles, no permissions granted.
    User.objects.create_superuser("root", "root@example.org", PASSWORD)
    r = anon.post(f"{API}/auth/tokens/", {"username": "root", "password": PASSWORD}, "json")
    assert r.status_code == 201, r.content
    root = client_for()
    root.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    me = root.get(f"{API}/me/").json()
    assert me["role"] == "admin" and me["staff_roles"] == []

    r = root.post(f"{API}/programs/", {"name": "v1", "currency": "EUR"}, "json")
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    card = {
        "effective_from": (clock.today() - dt.timedelta(days=10)).isoformat(),
        "hourly_rate": "40",
        "bug_bounties": {"low": "5", "medium": "10", "high": "20", "critical": "40"},
    }
    assert root.post(f"{API}/programs/{pid}/rate-cards/", card, "json").status_code == 201
    r = root.post(
        f"{API}/artists/",
        {"username": "v1ada", "email": "v1ada@example.org", "password": "a-long-passphrase-42"},
        "json",
    )
    assert r.status_code == 201, r.content
    ada_id = r.json()["id"]
    assert (
        root.post(f"{API}/programs/{pid}/members/", {"artist": ada_id}, "json").status_code == 201
    )
    r = anon.post(
        f"{API}/auth/tokens/", {"username": "v1ada", "password": "a-long-passphrase-42"}, "json"
    )
    ada = client_for()
    ada.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    assert ada.get(f"{API}/me/").json()["role"] == "artist"
    work = {
        "program": pid,
        "kind": "feedback",
        "hours": "2.5",
        "title": "Session",
        "occurred_on": clock.today().isoformat(),
    }
    r = ada.post(f"{API}/contributions/", work, "json")
    assert r.status_code == 201, r.content
    r = root.post(f"{API}/contributions/{r.json()['id']}/accept/", {}, "json")
    assert r.status_code == 200 and r.json()["value"] == "100.00", r.content
    # Work logged by the admin for the artist, and a program of someone else's.
    r = root.post(f"{API}/contributions/", work | {"artist": ada_id}, "json")
    assert r.status_code == 201, r.content
    assert (
        root.post(f"{API}/contributions/{r.json()['id']}/reject/", {"reason": "dup"}).json()[
            "status"
        ]
        == "rejected"
    )
    pay = {"artist": ada_id, "program": pid, "amount": "60", "kind": "settlement"}
    r = root.post(f"{API}/payouts/", pay, "json")
    assert r.status_code == 201 and r.json()["status"] == "paid", r.content
    problem(root.post(f"{API}/payouts/", pay | {"amount": "41"}, "json"), 409)
    grant = root.post(f"{API}/payouts/", pay | {"kind": "grant", "amount": "5"}, "json").json()
    r = root.post(f"{API}/payouts/{grant['id']}/void/", {"reason": "dup"}, "json")
    assert r.json()["status"] == "void"
    (balance,) = rows(root, f"/balances/?program={pid}")
    assert (balance["valued"], balance["paid"], balance["outstanding"]) == (
        "100.00",
        "60.00",
        "40.00",
    )
    statement = ada.get(f"{API}/statements/?program={pid}").json()
    assert statement["closing_balance"] == "40.00"
    csv = root.get(f"{API}/statements/?program={pid}&artist={ada_id}&format=csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    for path in (
        f"/ledger/export/?program={pid}&format=hledger",
        f"/ledger/export/?program={pid}&format=beancount",
        f"/exports/outstanding/?program={pid}",
    ):
        assert root.get(f"{API}{path}").status_code == 200, path
    assert root.get(f"{API}/ledger/verify/?program={pid}").json()["ok"] is True
    # The superuser still acts in programs others created, holding no role there.
    assert root.get(f"{API}/programs/{world.a.pk}/staff/").status_code == 200
    r = root.post(f"{API}/contributions/{world.submitted().pk}/accept/", {}, "json")
    assert r.status_code == 200, r.content


@pytest.mark.django_db
def test_v1_role_in_me(world):
    assert client_for(UserFactory()).get(f"{API}/me/").json()["role"] == "artist"
    for name in ("artist", "peer", "artist_b"):
        me = client_for(world.people[name]).get(f"{API}/me/").json()
        assert me["role"] == "artist" and me["staff_roles"] == [], name
    for name in (*STAFF_A, "staff_b", "operator"):
        assert client_for(world.people[name]).get(f"{API}/me/").json()["role"] == "admin", name
    roles = client_for(world.staff_b).get(f"{API}/me/").json()["staff_roles"]
    assert roles == [
        {"program": world.b.pk, "role": r} for r in ("manager", "reviewer", "treasurer", "auditor")
    ]
    assert client_for(world.operator).get(f"{API}/me/").json()["can_create_programs"] is True
    assert client_for(world.manager).get(f"{API}/me/").json()["can_create_programs"] is False


@pytest.mark.django_db
def test_a_manager_enrols_only_people_it_sees(world):
    manager = client_for(world.manager)
    path = f"{API}/programs/{world.a.pk}/members/"
    stranger = UserFactory()
    for artist in (world.artist_b, stranger, world.staff_b):
        r = manager.post(path, {"artist": artist.pk}, "json")
        assert fields_of(problem(r, 400)) == {"artist"}, artist
    r = manager.post(path, {"artist": world.peer.pk}, "json")  # a member already
    assert fields_of(problem(r, 400)) == {"artist"}
    assert not world.a.memberships.filter(artist__in=[world.artist_b, stranger]).exists()
    # An operator enrols anyone; the newcomer is then someone A's manager sees.
    r = client_for(world.operator).post(path, {"artist": stranger.pk}, "json")
    assert r.status_code == 201, r.content
    assert manager.get(f"{API}/artists/{stranger.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_member_of_one_program_and_staff_of_another(world):
    """Staff of B who is also an artist of A: all of B, only its own rows of A, and no role
    in A (403 on A's books, which it may see as a member)."""
    services.enroll_artist(actor=world.operator, program=world.a, artist=world.staff_b)
    log_feedback(world.a, world.staff_b)
    both = client_for(world.staff_b)
    contributions = rows(both, "/contributions/")
    in_a = [c for c in contributions if c["program"] == world.a.pk]
    assert in_a and {c["artist"] for c in in_a} == {world.staff_b.pk}
    in_b = {c["id"] for c in contributions if c["program"] == world.b.pk}
    assert in_b == {
        c["id"] for c in rows(client_for(world.operator), f"/contributions/?program={world.b.pk}")
    }
    assert {p["id"] for p in rows(both, "/programs/")} == {world.a.pk, world.b.pk}
    problem(both.get(f"{API}/ledger/verify/?program={world.a.pk}"), 403)
    problem(both.get(f"{API}/programs/{world.a.pk}/staff/"), 403)
    problem(both.get(f"{API}/statements/?program={world.a.pk}&artist={world.artist.pk}"), 404)
    assert both.get(f"{API}/statements/?program={world.a.pk}").status_code == 200  # its own
    # Holding a role in both, it sees both programs' books.
    services.grant_role(actor=world.operator, program=world.a, user=world.staff_b, role="auditor")
    assert both.get(f"{API}/ledger/verify/?program={world.a.pk}").status_code == 200
    assert {c["program"] for c in rows(both, "/payouts/")} == {world.a.pk, world.b.pk}
