"""The pages per role: each role is offered exactly its writes, told why where a write it sees
is not offered, and a forged post writes nothing; staff of another program see nothing of it.

Roles in `program` (the `crew` fixture): the operator (`admin`, a superuser), a manager, a
reviewer, two treasurers, an auditor, a member artist, and a reviewer of another program.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from ledger import services
from ledger.models import Contribution, Entry, Membership, Payout, RateCard, StaffRole
from tests.conftest import TODAY, accepted_work, log_feedback, make_program
from tests.factories import UserFactory

from .pages import buttons, confirmation_of, field_error, nav_links, pay, refusals

pytestmark = pytest.mark.django_db

# Everyone's own pages, not a role's: the account menu and the inbox.
ACCOUNT_LINKS = {
    "Change password",
    "Two-factor sign-in",
    "API tokens",
    "Email preferences",
    "Bank details",
    "Notifications",
}


@pytest.fixture
def crew(admin, artist, program):
    """Every role in `program`, and a reviewer of another program."""
    people = {"operator": admin, "artist": artist}
    for role in ("manager", "reviewer", "treasurer", "auditor"):
        people[role] = UserFactory(username=role)
        services.grant_role(actor=admin, program=program, user=people[role], role=role)
    people["treasurer2"] = UserFactory(username="treasurer2")
    services.grant_role(actor=admin, program=program, user=people["treasurer2"], role="treasurer")
    other = make_program(admin, currency="EUR")
    people["outsider"] = UserFactory(username="outsider")
    services.grant_role(actor=admin, program=other, user=people["outsider"], role="reviewer")
    people["other_program"] = other
    return people


def nav(client):
    return [link for link in nav_links(client.get("/")) if link not in ACCOUNT_LINKS]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "operator",
            ["Home", "Review", "Payouts", "Disputes", "Proposals", "Programs", "Transparency"],
        ),
        ("manager", ["Home", "Payouts", "Disputes", "Programs", "Transparency"]),
        ("reviewer", ["Home", "Review", "Payouts", "Disputes", "Programs", "Transparency"]),
        ("treasurer", ["Home", "Payouts", "Disputes", "Proposals", "Programs", "Transparency"]),
        ("auditor", ["Home", "Payouts", "Disputes", "Programs", "Transparency"]),
        ("artist", ["Home", "My work", "Log work", "Disputes", "Programs", "Transparency"]),
    ],
)
def test_navigation_shows_each_role_its_pages(client_for, crew, role, expected):
    assert nav(client_for(crew[role])) == expected


def test_a_page_each_link_leads_to_is_open_to_the_role(client_for, crew):
    """No link in the navigation leads to a 403."""
    for role in ("operator", "manager", "reviewer", "treasurer", "auditor", "artist"):
        client = client_for(crew[role])
        html = client.get("/").content.decode()
        for path in ("/review/", "/payouts/", "/payouts/proposals/"):
            if f'href="{path}"' in html.split('<main id="main"')[0]:
                assert client.get(path).status_code == 200, (role, path)


# --- Contributions and the review queue ---------------------------------------------------


def test_contribution_page_offers_review_to_reviewers_only(client_for, crew, program):
    work = log_feedback(program, crew["artist"])
    url = f"/contributions/{work.pk}/"
    for role in ("operator", "reviewer"):
        response = client_for(crew[role]).get(url)
        assert buttons(response) == {"Accept": True, "Reject": True}, role
        assert refusals(response) == []
    for role in ("manager", "treasurer", "auditor"):
        response = client_for(crew[role]).get(url)
        assert buttons(response) == {}, role
        assert refusals(response) == ["Only a reviewer of this program may review its work."]
    response = client_for(crew["artist"]).get(url)
    assert buttons(response) == {"Withdraw this contribution": True}
    assert refusals(response) == []
    assert client_for(crew["outsider"]).get(url).status_code == 404


def test_reviewer_cannot_accept_own_work(client_for, crew, program):
    reviewer = crew["reviewer"]
    services.enroll_artist(actor=crew["operator"], program=program, artist=reviewer)
    own = log_feedback(program, reviewer)
    client = client_for(reviewer)

    response = client.get(f"/contributions/{own.pk}/")
    assert buttons(response) == {
        "Accept": False,
        "Reject": False,
        "Withdraw this contribution": True,
    }
    assert refusals(response) == ["You cannot review your own work."]
    queue = client.get("/review/")
    assert buttons(queue)[f"Accept “{own.title}”"] is False
    html = queue.content.decode()
    assert f'value="{own.pk}" form="bulk-form" aria-label="Select “{own.title}”" disabled' in html

    # Forged posts: the page says why and nothing is written.
    response = client.post(f"/contributions/{own.pk}/accept/", {})
    assert response.status_code == 200
    assert "You cannot review your own work." in response.content.decode()
    response = client.post(f"/contributions/{own.pk}/reject/", {"reject-reason": "no"})
    assert "You cannot review your own work." in response.content.decode()
    response = client.post("/review/accept/", {"ids": [own.pk]}, follow=True)
    assert "You cannot review your own work. Nothing was accepted." in response.content.decode()
    own.refresh_from_db()
    assert own.status == "submitted"
    assert not Entry.objects.filter(program=program, kind="acceptance").exists()


def test_auditor_reads_the_queue_and_writes_nothing(client_for, crew, program):
    work = log_feedback(program, crew["artist"])
    client = client_for(crew["auditor"])
    response = client.get("/review/")
    assert work.title in response.content.decode()
    assert buttons(response) == {"Filter": True}
    assert refusals(response) == [
        "You read this queue; reviewing needs the reviewer role in the work's program."
    ]
    response = client.post(f"/contributions/{work.pk}/accept/", {})
    assert "Only a reviewer of this program may review its work." in response.content.decode()
    client.post("/review/accept/", {"ids": [work.pk]})
    work.refresh_from_db()
    assert work.status == "submitted"


def test_queue_lists_only_the_programs_one_is_staff_of(client_for, crew, program):
    here = log_feedback(program, crew["artist"])
    other = crew["other_program"]
    there_artist = UserFactory(username="there")
    services.enroll_artist(actor=crew["operator"], program=other, artist=there_artist)
    there = services.submit_contribution(
        actor=there_artist, program=other, kind="feedback", title="Over there",
        occurred_on=TODAY, hours=Decimal("1.00"),
    )  # fmt: skip
    html = client_for(crew["reviewer"]).get("/review/").content.decode()
    assert f"/contributions/{here.pk}/" in html and "Over there" not in html
    html = client_for(crew["outsider"]).get("/review/").content.decode()
    assert f"/contributions/{there.pk}/" in html and f"/contributions/{here.pk}/" not in html
    # Work the outsider cannot see is refused without being named, and nothing is accepted.
    response = client_for(crew["outsider"]).post(
        "/review/accept/", {"ids": [here.pk, there.pk]}, follow=True
    )
    html = response.content.decode()
    assert "no longer waiting for review. Nothing was accepted." in html
    assert here.title not in html.split('id="messages"')[1].split("</div>")[0]
    assert Contribution.objects.get(pk=there.pk).status == "submitted"


def test_staff_of_another_program_get_404_on_its_pages(client_for, crew, program):
    work = log_feedback(program, crew["artist"])
    payout = services.record_payout(
        actor=crew["operator"], artist=crew["artist"], program=program, amount_minor=100,
        kind="grant",
    )  # fmt: skip
    staff = StaffRole.objects.get(program=program, user=crew["auditor"])
    client = client_for(crew["outsider"])
    for url in (
        f"/programs/{program.pk}/",
        f"/programs/{program.pk}/staff/",
        f"/programs/{program.pk}/staff/{staff.pk}/revoke/",
        f"/programs/{program.pk}/settings/",
        f"/programs/{program.pk}/statement/",
        f"/contributions/{work.pk}/",
        f"/payouts/{payout.pk}/",
        f"/payouts/{payout.pk}/void/",
        f"/payouts/{payout.pk}/decline/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/payouts/{payout.pk}/approve/").status_code == 404
    assert (
        client.post(f"/programs/{program.pk}/staff/", {"user": 1, "role": "auditor"}).status_code
        == 404
    )
    assert client.post(f"/programs/{program.pk}/settings/", {"name": "Mine"}).status_code == 404
    program.refresh_from_db()
    assert program.name != "Mine"
    html = client.get("/payouts/").content.decode()
    assert program.name not in html
    html = client.get("/").content.decode()
    assert program.name not in html


# --- Payouts ------------------------------------------------------------------------------


def test_pay_and_void_are_offered_to_treasurers_only(client_for, crew, program):
    accepted_work(program, crew["artist"], crew["operator"])
    payout = services.record_payout(
        actor=crew["treasurer"], artist=crew["artist"], program=program, amount_minor=100,
        kind="grant",
    )  # fmt: skip
    for role in ("operator", "treasurer"):
        client = client_for(crew[role])
        html = client.get("/payouts/").content.decode()
        assert "Record a payment" in html and f"/payouts/{payout.pk}/void/" in html, role
        assert client.get("/payouts/new/").status_code == 200
    for role in ("manager", "reviewer", "auditor"):
        client = client_for(crew[role])
        response = client.get("/payouts/")
        html = response.content.decode()
        assert "Record a payment" not in html and "/void/" not in html, role
        assert "kind=settlement" not in html  # no Settle link
        assert refusals(response) == [
            "You read these books; recording, approving and voiding payments needs the "
            "treasurer role in a program."
        ]
        response = client.get("/payouts/new/")
        assert response.status_code == 403
        assert "Only a treasurer of a program may record payments" in response.content.decode()
        response = client.get(f"/payouts/{payout.pk}/void/")
        assert buttons(response) == {}
        assert refusals(response) == [
            "Only a treasurer of this program may record, approve or void its payouts."
        ]
        client.post(f"/payouts/{payout.pk}/void/", {"reason": "forged"})
        payout.refresh_from_db()
        assert payout.status == "paid"


def test_a_treasurer_cannot_pay_themselves(client_for, crew, program):
    treasurer = crew["treasurer"]
    services.enroll_artist(actor=crew["operator"], program=program, artist=treasurer)
    accepted_work(program, treasurer, crew["operator"])
    client = client_for(treasurer)
    response = client.get(f"/payouts/new/?program={program.pk}&artist={treasurer.pk}")
    message = "Nobody records, proposes or approves a payout to themselves."
    assert message in response.content.decode()
    response = pay(client, program, treasurer, "10.00", kind="grant")
    assert field_error(response, "artist") == message
    response = pay(client, program, treasurer, "10.00", kind="grant", confirm="1")
    assert field_error(response, "artist") == message
    assert not Payout.objects.filter(artist=treasurer).exists()
    # The payouts page offers no Settle link on the treasurer's own row, and says why.
    response = client.get(f"/payouts/?program={program.pk}")
    assert f"artist={treasurer.pk}&amp;kind=settlement" not in response.content.decode()
    assert message in refusals(response)


def test_large_payout_is_proposed_and_approved_by_a_second_treasurer(client_for, crew, program):
    services.update_program(actor=crew["manager"], program=program, approval_threshold_minor=100000)
    artist, treasurer = crew["artist"], crew["treasurer"]
    client = client_for(treasurer)
    review = pay(client, program, artist, "1500.00", kind="grant")
    html = review.content.decode()
    assert "This payment will be proposed, not paid" in html
    assert buttons(review)["Confirm and propose"] is True
    response = pay(
        client, program, artist, "1500.00", kind="grant", confirm="1",
        confirmation=confirmation_of(review),
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/payouts/proposals/"
    proposal = Payout.objects.get(artist=artist)
    assert proposal.status == "proposed" and proposal.proposed_by == treasurer
    response = client.get("/payouts/proposals/")
    assert "Proposed — waiting for a second treasurer" in response.content.decode()
    assert buttons(response) == {
        f"Approve payout #{proposal.pk}": False,
        f"Decline payout #{proposal.pk}": False,
    }
    assert refusals(response) == [
        "A payout is approved by a treasurer other than the one who proposed it."
    ]
    # A forged approval by the proposer writes nothing.
    response = client.post(f"/payouts/{proposal.pk}/approve/", follow=True)
    assert "other than the one who proposed it" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "proposed"

    second = client_for(crew["treasurer2"])
    response = second.get("/payouts/proposals/")
    assert buttons(response) == {f"Approve payout #{proposal.pk}": True}
    assert f"/payouts/{proposal.pk}/decline/" in response.content.decode()
    response = second.post(f"/payouts/{proposal.pk}/approve/", follow=True)
    assert f"Approved payout #{proposal.pk}" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "paid" and proposal.approved_by == crew["treasurer2"]
    # A double submit replays the approval instead of posting it twice.
    response = second.post(f"/payouts/{proposal.pk}/approve/", follow=True)
    assert "You already approved" in response.content.decode()
    assert Entry.objects.filter(payout=proposal).count() == 1
    html = second.get(f"/payouts/{proposal.pk}/").content.decode()
    assert "Approved by" in html and str(crew["treasurer2"]) in html


def test_the_payee_cannot_decide_its_own_proposal(client_for, crew, program):
    payee = crew["treasurer2"]
    services.enroll_artist(actor=crew["operator"], program=program, artist=payee)
    program = services.update_program(
        actor=crew["manager"], program=program, approval_threshold_minor=1000
    )
    proposal = services.record_payout(
        actor=crew["treasurer"], artist=payee, program=program, amount_minor=5000, kind="grant"
    )
    client = client_for(payee)
    response = client.get(f"/payouts/{proposal.pk}/")
    assert buttons(response) == {"Approve": False, "Decline": False}
    assert refusals(response) == ["Nobody records, proposes or approves a payout to themselves."]
    response = client.get(f"/payouts/{proposal.pk}/decline/")
    assert buttons(response) == {}
    client.post(f"/payouts/{proposal.pk}/decline/", {"reason": "mine"})
    proposal.refresh_from_db()
    assert proposal.status == "proposed"


def test_an_approval_refused_for_the_balance_leaves_the_proposal(client_for, crew, program):
    artist = crew["artist"]
    accepted_work(program, artist, crew["operator"])  # $90.00 owed
    program = services.update_program(
        actor=crew["manager"], program=program, approval_threshold_minor=5000
    )
    proposal = services.record_payout(
        actor=crew["treasurer"], artist=artist, program=program, amount_minor=6000,
        kind="settlement",
    )  # fmt: skip
    services.record_payout(
        actor=crew["treasurer"], artist=artist, program=program, amount_minor=4000,
        kind="settlement",
    )  # fmt: skip
    response = client_for(crew["treasurer2"]).post(f"/payouts/{proposal.pk}/approve/", follow=True)
    html = response.content.decode()
    assert "exceeds the $50.00 outstanding" in html and "The payout stays proposed." in html
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    assert not Entry.objects.filter(payout=proposal).exists()


def test_decline_needs_a_reason_and_shows_it(client_for, crew, program):
    program = services.update_program(
        actor=crew["manager"], program=program, approval_threshold_minor=1000
    )
    proposal = services.record_payout(
        actor=crew["treasurer"], artist=crew["artist"], program=program, amount_minor=5000,
        kind="grant",
    )  # fmt: skip
    client = client_for(crew["treasurer2"])
    response = client.post(f"/payouts/{proposal.pk}/decline/", {"reason": ""})
    assert field_error(response, "reason") == "A reason is required."
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    response = client.post(
        f"/payouts/{proposal.pk}/decline/?next=/payouts/proposals/",
        {"reason": "Wrong artist"},
    )
    assert response.status_code == 302 and response["Location"] == "/payouts/proposals/"
    proposal.refresh_from_db()
    assert proposal.status == "declined" and proposal.decline_reason == "Wrong artist"
    response = client.post(f"/payouts/{proposal.pk}/decline/", {"reason": "Wrong artist"})
    assert response.status_code == 302  # a repeat is shown the decline, not an error
    html = client.get(f"/payouts/?program={program.pk}").content.decode()
    assert "Declined" in html and "Wrong artist" in html
    html = client_for(crew["artist"]).get(f"/payouts/{proposal.pk}/").content.decode()
    assert "Reason declined" in html and "Wrong artist" in html
    assert "/decline/" not in html


# --- Programs: links, staff, settings -----------------------------------------------------


def test_program_page_links_and_forms_per_role(client_for, crew, program):
    url = f"/programs/{program.pk}/"
    for role in ("operator", "manager"):
        response = client_for(crew[role]).get(url)
        html = response.content.decode()
        assert f"/programs/{program.pk}/staff/" in html
        assert f"/programs/{program.pk}/settings/" in html
        assert buttons(response) == {"Publish rate card": True, "Enroll": True}, role
    for role in ("reviewer", "treasurer", "auditor"):
        response = client_for(crew[role]).get(url)
        html = response.content.decode()
        assert f"/programs/{program.pk}/staff/" in html
        assert f"/programs/{program.pk}/settings/" not in html
        assert buttons(response) == {}, role
        assert "Publishing a rate card: Only a manager of this program may change it." in (
            refusals(response)
        )
    response = client_for(crew["artist"]).get(url)
    html = response.content.decode()
    assert "/staff/" not in html and "/settings/" not in html and refusals(response) == []


def test_forged_manager_posts_write_nothing(client_for, crew, program):
    client = client_for(crew["auditor"])
    newcomer = UserFactory(username="newcomer")
    services.enroll_artist(actor=crew["operator"], program=crew["other_program"], artist=newcomer)
    response = client.post(
        f"/programs/{program.pk}/rate-cards/",
        {
            "effective_from": TODAY.isoformat(),
            "hourly_rate": "1",
            **{f"bounty_{s}": "1" for s in ("low", "medium", "high", "critical")},
        },
    )
    assert "Only a manager of this program may change it." in response.content.decode()
    assert RateCard.objects.filter(program=program).count() == 1
    client.post(f"/programs/{program.pk}/members/", {"artist": crew["auditor"].pk})
    assert not Membership.objects.filter(program=program, artist=crew["auditor"]).exists()
    response = client.post(
        f"/programs/{program.pk}/staff/", {"user": crew["artist"].pk, "role": "treasurer"}
    )
    assert "Only a manager of this program may change it." in response.content.decode()
    assert not StaffRole.objects.filter(user=crew["artist"]).exists()
    assert client.post(f"/programs/{program.pk}/settings/", {"name": "x"}).status_code == 403
    staff = StaffRole.objects.get(program=program, user=crew["reviewer"])
    response = client.post(f"/programs/{program.pk}/staff/{staff.pk}/revoke/")
    assert "Only a manager of this program may change it." in response.content.decode()
    assert StaffRole.objects.filter(pk=staff.pk).exists()


def test_staff_page_lists_roles_for_staff_and_forms_for_managers(client_for, crew, program):
    url = f"/programs/{program.pk}/staff/"
    response = client_for(crew["auditor"]).get(url)
    html = response.content.decode()
    for role in ("manager", "reviewer", "treasurer", "auditor"):
        assert str(crew[role]) in html
    assert buttons(response) == {}
    assert "/revoke/" not in html
    assert refusals(response) == ["Only a manager of this program may change it."]
    assert client_for(crew["artist"]).get(url).status_code == 403

    response = client_for(crew["manager"]).get(url)
    assert buttons(response) == {"Grant role": True}
    assert response.content.decode().count("/revoke/") == program.staff_roles.count()


def test_manager_grants_and_revokes_roles(client_for, crew, program):
    manager, artist = crew["manager"], crew["artist"]
    stranger = UserFactory(username="stranger")  # in no program of the manager's
    client = client_for(manager)
    response = client.get(f"/programs/{program.pk}/staff/")
    html = response.content.decode()
    assert f'value="{artist.pk}"' in html and f'value="{stranger.pk}"' not in html
    response = client.post(
        f"/programs/{program.pk}/staff/", {"user": stranger.pk, "role": "reviewer"}
    )
    assert "valid choice" in field_error(response, "user")
    response = client.post(f"/programs/{program.pk}/staff/", {"user": artist.pk, "role": "boss"})
    assert "valid choice" in field_error(response, "role")

    response = client.post(f"/programs/{program.pk}/staff/", {"user": artist.pk, "role": "auditor"})
    assert response.status_code == 302
    granted = StaffRole.objects.get(program=program, user=artist)
    assert granted.role == "auditor" and granted.granted_by == manager
    response = client.post(f"/programs/{program.pk}/staff/", {"user": artist.pk, "role": "auditor"})
    assert field_error(response, "role") == "This person already holds this role."

    revoke = f"/programs/{program.pk}/staff/{granted.pk}/revoke/"
    response = client.get(revoke)
    assert buttons(response) == {f"Revoke auditor from {artist}": True}
    assert StaffRole.objects.filter(pk=granted.pk).exists()  # a GET only asks
    response = client.post(revoke)
    assert response.status_code == 302
    assert not StaffRole.objects.filter(pk=granted.pk).exists()


def test_the_last_manager_cannot_be_removed(client_for, crew, program):
    manager, operator = crew["manager"], crew["operator"]
    client = client_for(manager)
    operators_role = StaffRole.objects.get(program=program, user=operator, role="manager")
    assert (
        client.post(f"/programs/{program.pk}/staff/{operators_role.pk}/revoke/").status_code == 302
    )
    own = StaffRole.objects.get(program=program, user=manager, role="manager")
    response = client.post(f"/programs/{program.pk}/staff/{own.pk}/revoke/")
    assert response.status_code == 200
    assert "A program keeps at least one manager" in response.content.decode()
    assert StaffRole.objects.filter(pk=own.pk).exists()


def test_manager_edits_the_settings(client_for, crew, program):
    url = f"/programs/{program.pk}/settings/"
    client = client_for(crew["manager"])
    response = client.get(url)
    html = response.content.decode()
    assert "USD" in html and 'name="currency"' not in html
    fields = {"name": "Renamed", "description": "", "status": "closed", "public": "on"}
    # The deadlines, as the form shows them (prefilled with the program's).
    fields |= {"review_within_days": 14, "pay_within_days": 30, "dispute_window_days": 30}
    for bad in ("abc", "0", "1.001", "-5"):
        response = client.post(url, fields | {"approval_threshold": bad})
        assert response.status_code == 200
        assert field_error(response, "approval_threshold"), bad
    response = client.post(url, fields | {"name": " ", "approval_threshold": "12.50"})
    assert field_error(response, "name")
    program.refresh_from_db()
    assert program.name != "Renamed" and program.approval_threshold_minor is None

    response = client.post(url, fields | {"approval_threshold": "12.50"})
    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.name, program.status, program.public) == ("Renamed", "closed", True)
    assert program.approval_threshold_minor == 1250
    assert 'value="12.50"' in client.get(url).content.decode()
    response = client.post(url, fields | {"approval_threshold": ""})
    program.refresh_from_db()
    assert program.approval_threshold_minor is None

    for role in ("reviewer", "treasurer", "auditor", "artist"):
        assert client_for(crew[role]).get(url).status_code == 403, role


def test_creating_programs_needs_the_permission(client_for, crew):
    from django.contrib.auth.models import Permission

    client = client_for(crew["manager"])
    response = client.get("/programs/")
    assert 'href="/programs/new/"' not in response.content.decode()
    assert refusals(response) == [
        "New programs: Creating a program needs the permission to add programs. "
        "An operator grants it."
    ]
    response = client.post("/programs/new/", {"name": "Mine", "currency": "USD"})
    assert response.status_code == 403
    assert "needs the permission to add programs" in response.content.decode()

    founder = UserFactory(username="founder")  # no role anywhere yet
    founder.user_permissions.add(Permission.objects.get(codename="add_program"))
    client = client_for(founder)
    assert 'href="/programs/new/"' in client.get("/programs/").content.decode()
    response = client.post("/programs/new/", {"name": "Founded", "currency": "USD"})
    assert response.status_code == 302
    assert StaffRole.objects.filter(user=founder, role="manager").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_treasurers_approving_at_once_post_it_once(crew, program):
    """Two second treasurers click Approve on the same proposal at the same moment: one
    approval posts, the other is told the payout is no longer a proposal."""
    program = services.update_program(
        actor=crew["manager"], program=program, approval_threshold_minor=1000
    )
    proposal = services.record_payout(
        actor=crew["operator"], artist=crew["artist"], program=program, amount_minor=5000,
        kind="grant",
    )  # fmt: skip
    clients = []
    for name in ("treasurer", "treasurer2"):
        client = Client()
        client.force_login(crew[name])
        clients.append(client)
    barrier = threading.Barrier(2)
    pages = [None, None]

    def approve(i):
        try:
            barrier.wait()
            response = clients[i].post(f"/payouts/{proposal.pk}/approve/", follow=True)
            pages[i] = response.content.decode()
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Entry.objects.filter(payout=proposal).count() == 1
    assert sum(f"Approved payout #{proposal.pk}" in page for page in pages) == 1
    assert sum("only a proposal is decided" in page for page in pages) == 1


def test_revoking_a_role_revoked_meanwhile_says_so(client_for, crew, program, monkeypatch):
    staff = StaffRole.objects.get(program=program, user=crew["auditor"])
    client = client_for(crew["manager"])
    original = services.revoke_role

    def revoked_first(*, actor, staff):
        original(actor=crew["operator"], staff=staff)  # another manager was quicker
        return original(actor=actor, staff=staff)

    monkeypatch.setattr(services, "revoke_role", revoked_first)
    response = client.post(f"/programs/{program.pk}/staff/{staff.pk}/revoke/", follow=True)
    assert response.status_code == 200
    assert f"{crew['auditor']} no longer holds this role." in response.content.decode()
    assert not StaffRole.objects.filter(pk=staff.pk).exists()
