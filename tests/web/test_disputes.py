"""Disputes on the pages: opened from the contribution or the payout, the queue, a dispute's
timeline, and the forms shown only to who may act (the others see why)."""

import datetime as dt
import re

import pytest

from ledger import clock, services
from ledger.models import Dispute, Notification
from tests.conftest import accepted_work, log_feedback, rejected_work
from tests.factories import UserFactory

from .pages import buttons, field_error, refusals

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer2(admin, program):
    person = UserFactory(username="reviewer2")
    services.grant_role(actor=admin, program=program, user=person, role="reviewer")
    return person


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_artist_disputes_a_rejection_from_the_contribution_page(
    client_for, admin, artist, program, reviewer2
):
    work = rejected_work(program, artist, admin)
    client = client_for(artist)
    page = html(client.get(f"/contributions/{work.pk}/"))
    assert f'href="/contributions/{work.pk}/dispute/"' in page and "Dispute this rejection" in page
    page = html(client.get(f"/contributions/{work.pk}/dispute/"))
    assert "This work was wrongly rejected" in page and "You can open a dispute until" in page
    response = client.post(f"/contributions/{work.pk}/dispute/", {"statement": ""})
    assert "Say what is wrong with the decision." in field_error(response, "statement")
    response = client.post(
        f"/contributions/{work.pk}/dispute/",
        {"statement": "It was in scope.", "evidence_url": "javascript:alert(1)"},
    )
    assert "http(s) link" in field_error(response, "evidence_url")
    assert not Dispute.objects.exists()
    response = client.post(
        f"/contributions/{work.pk}/dispute/",
        {"statement": "It was in scope.", "evidence_url": "https://example.org/brief"},
    )
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/disputes/{dispute.pk}/"
    assert (dispute.claim, dispute.statement) == ("rejection", "It was in scope.")
    page = html(client.get(f"/disputes/{dispute.pk}/"))
    assert "It was in scope." in page and 'href="https://example.org/brief"' in page
    assert buttons(client.get(f"/disputes/{dispute.pk}/")) == {"Withdraw this dispute": True}
    page = html(client.get(f"/contributions/{work.pk}/"))
    assert f'href="/disputes/{dispute.pk}/"' in page
    assert "Dispute this rejection" not in page  # one open at a time
    assert Notification.objects.filter(user=reviewer2, kind="dispute_opened").exists()


def test_a_closed_window_is_explained_instead_of_a_form(client_for, admin, artist, program):
    work = accepted_work(program, artist, admin)
    client = client_for(artist)
    with clock.frozen(clock.now() + dt.timedelta(days=31)):
        page = html(client.get(f"/contributions/{work.pk}/"))
        assert "The dispute window closed on" in page
        assert "Dispute this valuation" not in page
        page = html(client.get(f"/contributions/{work.pk}/dispute/"))
        assert "The dispute window closed on" in page and "allows 30 days" in page
        assert "<textarea" not in page
        response = client.post(f"/contributions/{work.pk}/dispute/", {"statement": "Please."})
        assert response.status_code == 200
    assert not Dispute.objects.exists()


def test_staff_and_other_artists_are_not_offered_a_dispute(
    client_for, admin, artist, artist2, program
):
    work = rejected_work(program, artist, admin)
    page = html(client_for(admin).get(f"/contributions/{work.pk}/"))
    assert "Dispute this rejection" not in page
    response = client_for(admin).get(f"/contributions/{work.pk}/dispute/")
    assert refusals(response) == ["Only the artist whose work or pay this is may dispute it."]
    assert client_for(artist2).get(f"/contributions/{work.pk}/dispute/").status_code == 404
    submitted = log_feedback(program, artist)
    assert "Dispute this" not in html(client_for(artist).get(f"/contributions/{submitted.pk}/"))


def test_the_artist_says_a_payout_never_arrived(client_for, admin, artist, program):
    treasurer = UserFactory(username="treasurer2")
    services.grant_role(actor=admin, program=program, user=treasurer, role="treasurer")
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=700, kind="grant"
    )
    client = client_for(artist)
    page = html(client.get(f"/payouts/{payout.pk}/"))
    assert "I never received this" in page and f'href="/payouts/{payout.pk}/dispute/"' in page
    assert "I never received this payment" in html(client.get(f"/payouts/{payout.pk}/dispute/"))
    response = client.post(f"/payouts/{payout.pk}/dispute/", {"statement": "Nothing arrived."})
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and dispute.claim == "not_received"
    # The operator recorded it: it sees the decision refused, with why; the other treasurer
    # is offered it and voids the payout by upholding.
    response = client_for(admin).get(f"/disputes/{dispute.pk}/")
    assert buttons(response) == {"Uphold": False, "Dismiss": False}
    assert refusals(response) == ["Nobody decides a dispute about their own decision."]
    client = client_for(treasurer)
    response = client.get(f"/disputes/{dispute.pk}/")
    assert buttons(response) == {"Uphold": True, "Dismiss": True}
    assert "Hours" not in html(response)  # a payout dispute takes only a note
    response = client.post(f"/disputes/{dispute.pk}/uphold/", {"uphold-note": "Bank confirms."})
    assert response.status_code == 302
    payout.refresh_from_db()
    assert payout.status == "void"
    page = html(client.get(f"/disputes/{dispute.pk}/"))
    assert "Upheld" in page and "Bank confirms." in page
    assert "Ledger entry 2: Void of a payout" in page and "+$7.00 to the artist" in page


def test_upholding_a_valuation_on_the_page_needs_the_hours(
    client_for, admin, artist, program, reviewer2
):
    work = accepted_work(program, artist, admin, hours="2.00")
    dispute = services.open_dispute(
        actor=artist, subject=work, claim="valuation", statement="Three hours."
    )
    client = client_for(reviewer2)
    page = html(client.get(f"/disputes/{dispute.pk}/"))
    assert "Logged: 2.00 h. Required" in page
    response = client.post(f"/disputes/{dispute.pk}/uphold/", {"uphold-note": "ok"})
    assert "required" in field_error(response, "uphold-hours").lower()
    response = client.post(
        f"/disputes/{dispute.pk}/uphold/", {"uphold-note": "ok", "uphold-hours": "1.5"}
    )
    assert "higher than its current value" in field_error(response, "uphold-hours")
    response = client.post(
        f"/disputes/{dispute.pk}/uphold/", {"uphold-note": "Fair.", "uphold-hours": "3"}
    )
    assert response.status_code == 302
    page = html(client.get(f"/disputes/{dispute.pk}/"))
    assert "Value adjusted by +$45.00" in page
    assert "Adjustment of accepted work" in page and "+$45.00 to the artist" in page
    page = html(client.get(f"/contributions/{work.pk}/"))
    assert "Revalued after a dispute" in page and f'href="/disputes/{dispute.pk}/"' in page
    assert "$135.00" in page


def test_dismissing_needs_a_note_and_the_artist_sees_the_outcome(
    client_for, admin, artist, program, reviewer2
):
    dispute = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    client = client_for(reviewer2)
    response = client.post(f"/disputes/{dispute.pk}/dismiss/", {"dismiss-note": " "})
    assert field_error(response, "dismiss-note")
    response = client.post(f"/disputes/{dispute.pk}/dismiss/", {"dismiss-note": "Out of scope."})
    assert response.status_code == 302
    page = html(client_for(artist).get(f"/disputes/{dispute.pk}/"))
    assert "Dismissed" in page and "Out of scope." in page
    assert buttons(client_for(artist).get(f"/disputes/{dispute.pk}/")) == {}


def test_the_artist_withdraws_on_the_page(client_for, admin, artist, program):
    dispute = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    assert client_for(artist).get(f"/disputes/{dispute.pk}/withdraw/").status_code == 405
    response = client_for(artist).post(f"/disputes/{dispute.pk}/withdraw/")
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "withdrawn"
    assert "Withdrawn" in html(client_for(artist).get(f"/disputes/{dispute.pk}/"))


def test_roles_that_may_not_decide_see_why(client_for, admin, artist, program):
    dispute = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    auditor = UserFactory(username="auditor")
    services.grant_role(actor=admin, program=program, user=auditor, role="auditor")
    response = client_for(auditor).get(f"/disputes/{dispute.pk}/")
    assert buttons(response) == {}
    assert refusals(response) == [
        "Only a reviewer of this program may decide disputes about its work."
    ]
    # A refused post changes nothing and says why.
    response = client_for(auditor).post(f"/disputes/{dispute.pk}/dismiss/", {"dismiss-note": "n"})
    assert response.status_code == 200
    dispute.refresh_from_db()
    assert dispute.status == "open"
    assert client_for(UserFactory()).get(f"/disputes/{dispute.pk}/").status_code == 404


def test_the_queue_lists_open_disputes_first_oldest_first(
    client_for, admin, artist, artist2, program, reviewer2
):
    moments = [clock.now() - dt.timedelta(days=n) for n in (3, 2, 1)]
    made = []
    for moment, person in zip(moments, (artist, artist2, artist), strict=True):
        with clock.frozen(moment):
            made.append(
                services.open_dispute(
                    actor=person,
                    subject=rejected_work(program, person, admin),
                    claim="rejection",
                    statement="x",
                )
            )
    services.dismiss_dispute(dispute=made[0], actor=reviewer2, note="n")
    page = html(client_for(reviewer2).get("/disputes/"))
    order = [int(pk) for pk in re.findall(r'href="/disputes/(\d+)/">#', page)]
    assert order == [made[1].pk, made[2].pk, made[0].pk]
    page = html(client_for(reviewer2).get("/disputes/?status=dismissed"))
    assert re.findall(r'href="/disputes/(\d+)/">#', page) == [str(made[0].pk)]
    page = html(client_for(artist).get("/disputes/"))
    assert sorted(int(pk) for pk in re.findall(r'href="/disputes/(\d+)/">#', page)) == [
        made[0].pk,
        made[2].pk,
    ]
    # A malformed filter is ignored as the other lists ignore it.
    assert client_for(reviewer2).get("/disputes/?program=%C2%B2&status=zzz").status_code == 200


def test_the_transparency_page_counts_disputes(client_for, admin, artist, program, reviewer2):
    dispute = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    services.uphold_dispute(dispute=dispute, actor=reviewer2, note="Yes.")
    page = html(client_for(artist).get(f"/programs/{program.pk}/transparency/"))
    assert re.search(r'data-testid="disputes-upheld">1<', page)
    assert re.search(r'data-testid="disputes-open">0<', page)


def test_the_django_admin_lists_disputes_read_only(client_for, admin, artist, program):
    admin.is_staff = True  # the admin site's own flag
    admin.save(update_fields=["is_staff"])
    dispute = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    client = client_for(admin)
    assert f"/admin/ledger/dispute/{dispute.pk}/" in html(client.get("/admin/ledger/dispute/"))
    assert client.get("/admin/ledger/dispute/add/").status_code == 403
