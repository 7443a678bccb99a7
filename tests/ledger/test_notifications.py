"""Each event tells the person concerned: an inbox row written with the change (rolled back
with it) and an email after commit when their preference allows; never the actor itself."""

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.errors import InsufficientBalance
from ledger.models import AuditEvent, Notification, NotificationKind
from ledger.notifications import notify, without_email
from tests.conftest import accepted_work, log_bug, log_feedback
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a block as if its transaction committed: its after-commit mail goes out."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def inbox(user) -> list[Notification]:
    return list(Notification.objects.of(user))


def only(user) -> Notification:
    rows = inbox(user)
    assert len(rows) == 1, [n.message for n in rows]
    return rows[0]


# --- each kind from its event -------------------------------------------------------------------


def test_accepting_work_tells_the_artist_its_value(admin, artist, program, committed, mailoutbox):
    work = log_feedback(program, artist, hours="2.00")
    with committed():
        services.accept_contribution(contribution=work, actor=admin)
    told = only(artist)
    assert told.kind == NotificationKind.CONTRIBUTION_REVIEWED
    assert told.message == "Your feedback “Feedback session” was accepted: $90.00."
    assert (told.subject_type, told.subject_id, told.program_id) == (
        "contribution",
        str(work.pk),
        program.pk,
    )
    assert told.read_at is None
    assert inbox(admin) == []  # the reviewer is not told of its own decision
    (message,) = mailoutbox
    assert message.to == [artist.email]
    assert message.subject == told.message
    assert f"/contributions/{work.pk}/" in message.body
    assert "/notifications/" in message.body and "/account/notifications/" in message.body


def test_rejecting_and_reversing_say_what_happened(admin, artist, program):
    services.reject_contribution(
        contribution=log_bug(program, artist), actor=admin, reason="Known issue"
    )
    reversed_work = accepted_work(program, artist, admin, hours="1.00")
    services.reverse_contribution(contribution=reversed_work, actor=admin, reason="Duplicate")
    messages = [n.message for n in inbox(artist)]  # newest first
    assert messages == [
        "Your feedback “Feedback session” was reversed, taking back $45.00: Duplicate",
        "Your feedback “Feedback session” was accepted: $45.00.",
        "Your bug report “Crash on export” was rejected: Known issue",
    ]
    assert {n.kind for n in inbox(artist)} == {NotificationKind.CONTRIBUTION_REVIEWED}


def test_a_payout_paid_tells_the_artist(admin, artist, program, committed, mailoutbox):
    with committed():
        payout = services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=2500, kind="grant"
        )
    told = only(artist)
    assert told.kind == NotificationKind.PAYOUT_RECORDED
    assert told.message.startswith(f"A grant of $25.00 was paid to you in {program.name} on ")
    assert (told.subject_type, told.subject_id) == ("payout", str(payout.pk))
    assert [m.to for m in mailoutbox] == [[artist.email]]
    assert f"/payouts/{payout.pk}/" in mailoutbox[0].body


@pytest.fixture
def treasurers(admin, artist, program):
    """Three treasurers of `program`, and the artist a treasurer too; payouts of $100.00 or
    more need a second treasurer."""
    people = [UserFactory(username=f"treasurer{i}") for i in range(3)]
    for person in [*people, artist]:
        services.grant_role(actor=admin, program=program, user=person, role="treasurer")
    services.update_program(actor=admin, program=program, approval_threshold_minor=10_000)
    program.refresh_from_db()
    return people


def test_a_proposal_asks_the_other_treasurers_then_its_approval_pays_the_artist(
    admin, artist, program, treasurers, committed, mailoutbox
):
    accepted_work(program, artist, admin, hours="4.00")  # $180.00 owed
    Notification.objects.all().delete()  # the acceptance's
    proposer, first, second = treasurers
    with committed():
        payout = services.record_payout(
            actor=proposer, artist=artist, program=program, amount_minor=15_000, kind="settlement"
        )
    assert payout.status == "proposed"
    asked = Notification.objects.filter(kind=NotificationKind.PAYOUT_NEEDS_APPROVAL)
    # Neither the proposer nor the artist paid (a treasurer too) decides it; operators are
    # not treasurers by role rows and are not asked.
    assert sorted(asked.values_list("user__username", flat=True)) == ["treasurer1", "treasurer2"]
    assert all(n.subject_id == str(payout.pk) for n in asked)
    assert asked.first().message == (
        f"A settlement of $150.00 to {artist} in {program.name}, proposed by {proposer}, "
        "needs a second treasurer's approval."
    )
    assert sorted(m.to[0] for m in mailoutbox) == [first.email, second.email]
    assert inbox(artist) == []  # nothing is paid yet

    with committed():
        services.approve_payout(payout=payout, actor=first)
    told = only(artist)
    assert (told.kind, told.subject_id) == (NotificationKind.PAYOUT_RECORDED, str(payout.pk))
    assert "settlement of $150.00 was paid to you" in told.message
    assert mailoutbox[-1].to == [artist.email]


def test_an_accepted_invitation_tells_the_inviter(manager, program, committed, mailoutbox):
    invitation = services.invite(actor=manager, program=program, email="nia@example.org")
    as_staff = services.invite(
        actor=manager, program=program, email="rev@example.org", role="reviewer"
    )
    mailoutbox.clear()
    with committed():
        nia, _ = services.accept_invitation_as_new_user(
            token=invitation.secret, username="nia", password="x", display_name="Nia"
        )
        services.accept_invitation(token=as_staff.secret, user=UserFactory(username="rev"))
    messages = [n.message for n in inbox(manager)]
    assert messages == [
        f"Rev accepted your invitation and joined {program.name} as a reviewer.",
        f"Nia accepted your invitation and joined {program.name} as a member (artist).",
    ]
    told = inbox(manager)[1]
    assert (told.kind, told.subject_type, told.subject_id) == (
        NotificationKind.INVITATION_ACCEPTED,
        "invitation",
        str(invitation.pk),
    )
    assert inbox(nia) == []
    manager_mail = [m for m in mailoutbox if m.to == [manager.email]]
    assert len(manager_mail) == 2
    # An invitation's link is its program's invitations page.
    assert f"/programs/{program.pk}/invitations/" in manager_mail[0].body


# --- what is not told ---------------------------------------------------------------------------


def test_nothing_is_told_of_a_change_that_rolls_back(admin, artist, program, committed, mailoutbox):
    work = log_feedback(program, artist)
    with committed(), pytest.raises(Boom), transaction.atomic():
        services.accept_contribution(contribution=work, actor=admin)
        assert len(inbox(artist)) == 1  # written with the change...
        raise Boom
    assert inbox(artist) == []  # ...and gone with it
    with committed(), pytest.raises(InsufficientBalance):
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=1, kind="settlement"
        )
    assert inbox(artist) == []
    assert mailoutbox == []


def test_nobody_is_told_of_their_own_action(artist, program):
    assert (
        notify(
            user=artist,
            kind=NotificationKind.PAYOUT_RECORDED,
            message="m",
            subject=program,
            actor=artist,
        )
        is None
    )
    assert inbox(artist) == []


def test_email_off_keeps_the_inbox_and_sends_nothing(
    admin, artist, artist2, program, committed, mailoutbox
):
    services.set_preferences(user=artist, email_notifications=False)
    artist2.email = ""  # no address: nothing to send to
    artist2.save(update_fields=["email"])
    with committed():
        accepted_work(program, artist, admin)
        accepted_work(program, artist2, admin)
    assert len(inbox(artist)) == 1 and len(inbox(artist2)) == 1
    assert mailoutbox == []
    assert AuditEvent.objects.filter(action="user.preferences", object_id=str(artist.pk)).exists()
    services.set_preferences(user=artist, email_notifications=True)
    with committed():
        accepted_work(program, artist, admin)
    assert [m.to for m in mailoutbox] == [[artist.email]]


def test_a_bulk_review_reads_no_artist_per_row(admin, artist, artist2, program):
    """The artists' addresses and preferences come with each work's lock: a row costs its
    notification's INSERT and nothing more for it."""
    ids = [log_feedback(program, person).pk for person in (artist, artist2, artist, artist2)]
    with CaptureQueriesContext(connection) as queries:
        services.accept_contributions(ids=ids, actor=admin)
    users_read = [q["sql"] for q in queries if re.search(r"FROM\s+\"?accounts_user\b", q["sql"])]
    assert users_read == []
    locks = [q["sql"] for q in queries if "JOIN accounts_user u" in q["sql"]]
    assert len(locks) == 4  # each work's lock reads its artist
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT INTO ledger_notification")]
    assert len(inserts) == 4
    assert Notification.objects.filter(kind=NotificationKind.CONTRIBUTION_REVIEWED).count() == 4


def test_history_loaded_in_bulk_is_not_mailed(admin, artist, program, committed, mailoutbox):
    """The demo seed replays months of events inside `without_email`: inboxes fill, nobody is
    mailed; outside it, mail goes out again."""
    with committed(), without_email():
        accepted_work(program, artist, admin)
    assert len(inbox(artist)) == 1 and mailoutbox == []
    with committed():
        accepted_work(program, artist, admin)
    assert [m.to for m in mailoutbox] == [[artist.email]]
