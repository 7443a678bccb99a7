"""Invitations: who may invite, the single-use expiring link, what joining writes."""

import datetime as dt
import hashlib
import re
import threading

import pytest
from django.db import connections, transaction

from accounts.models import User
from ledger import access, clock, services
from ledger.errors import InvalidTransition, InvitationUnusable, NotAllowed, ValidationFailed
from ledger.models import AuditEvent, Invitation, Membership, StaffRole
from tests.conftest import make_program
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/invitations/([\w-]+)/")


@pytest.fixture
def sent(manager, program, mailoutbox, django_capture_on_commit_callbacks):
    """Invite someone as a member, the message delivered (the on-commit callbacks run)."""

    def send(email="newcomer@example.org", **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            invitation = services.invite(actor=manager, program=program, email=email, **kwargs)
        return invitation

    return send


def secret_from(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def audit_actions(invitation):
    return list(
        AuditEvent.objects.filter(object_type="invitation", object_id=str(invitation.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_invite_stores_only_the_hash_and_mails_the_link(sent, program, manager, mailoutbox):
    invitation = sent(display_name="Nia", role=None)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["newcomer@example.org"]
    assert program.name in message.subject
    secret = secret_from(message)
    assert secret == invitation.secret
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    # The secret itself is in no column of the row.
    assert all(secret not in str(value) for value in stored.__dict__.values())
    assert not hasattr(stored, "secret")
    assert (stored.status, stored.role, stored.display_name) == ("pending", None, "Nia")
    assert stored.created_by == manager
    assert stored.expires_at - stored.created_at == dt.timedelta(days=14)
    assert audit_actions(invitation) == ["invitation.create"]
    event = AuditEvent.objects.get(action="invitation.create")
    assert (event.actor, event.program_id) == (manager, program.pk)
    assert event.data["email"] == "newcomer@example.org"


def test_link_base_and_expiry_come_from_settings(sent, settings, mailoutbox):
    settings.LEDGER_SITE_URL = "https://ledger.example.org"
    settings.LEDGER_INVITATION_DAYS = 3
    invitation = sent()
    assert f"https://ledger.example.org/invitations/{invitation.secret}/" in mailoutbox[0].body
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=3)


def test_no_mail_when_the_change_rolls_back(
    manager, program, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.invite(actor=manager, program=program, email="x@example.org")
        raise RuntimeError("the outer transaction fails after the invitation")
    assert mailoutbox == []
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", ["reviewer", "treasurer", "auditor"])
def test_only_a_manager_of_the_program_invites(admin, program, artist, role):
    staff = UserFactory(username=f"staff-{role}")
    services.grant_role(actor=admin, program=program, user=staff, role=role)
    other_manager = UserFactory(username="elsewhere")
    other = make_program(admin, currency="EUR")
    services.grant_role(actor=admin, program=other, user=other_manager, role="manager")
    for actor in (staff, artist, other_manager):
        with pytest.raises(NotAllowed):
            services.invite(actor=actor, program=program, email="x@example.org")
    assert not Invitation.objects.exists()
    assert not AuditEvent.objects.filter(action="invitation.create").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "a@example.org", "role": "owner"}, "role"),
        ({"email": "a@example.org", "role": "admin"}, "role"),
        ({"email": "a@example.org", "display_name": "x" * 201}, "display_name"),
    ],
)
def test_bad_input_names_the_field(manager, program, fields, field):
    with pytest.raises(ValidationFailed) as caught:
        services.invite(actor=manager, program=program, **fields)
    assert caught.value.field == field
    assert not Invitation.objects.exists()


def test_accept_as_member_once(sent, program, manager):
    invitation = sent()
    newcomer = UserFactory(username="newcomer")
    accepted = services.accept_invitation(token=invitation.secret, user=newcomer)
    stored = Invitation.objects.get(pk=invitation.pk)
    assert (stored.status, stored.accepted_by) == ("accepted", newcomer)
    assert stored.accepted_at == accepted.accepted_at is not None
    assert Membership.objects.filter(program=program, artist=newcomer).exists()
    assert audit_actions(invitation) == ["invitation.create", "invitation.accept"]
    accept_event = AuditEvent.objects.get(action="invitation.accept")
    assert accept_event.actor == newcomer
    enrolment = AuditEvent.objects.get(action="membership.create", data__artist=newcomer.pk)
    assert enrolment.actor is None  # the system, on the manager's invitation

    # Single use: a second accept, by anyone, is refused and writes nothing.
    someone_else = UserFactory(username="someone")
    events = AuditEvent.objects.count()
    for user in (someone_else, newcomer):
        with pytest.raises(InvitationUnusable) as caught:
            services.accept_invitation(token=invitation.secret, user=user)
        assert caught.value.reason == "accepted"
    assert AuditEvent.objects.count() == events
    assert not Membership.objects.filter(program=program, artist=someone_else).exists()


def test_accept_as_staff_grants_the_role(sent, program):
    invitation = sent(role="treasurer")
    person = UserFactory(username="treasurer1")
    assert not access.can(person, access.Action.PAY, program.pk)
    services.accept_invitation(token=invitation.secret, user=person)
    assert StaffRole.objects.filter(program=program, user=person, role="treasurer").exists()
    assert access.can(person, access.Action.PAY, program.pk)
    assert not Membership.objects.filter(program=program, artist=person).exists()
    grant = AuditEvent.objects.get(action="staff.grant", data__user=person.pk)
    assert grant.actor is None  # the system, on the manager's invitation


def test_already_a_member_or_holding_the_role_is_fine(sent, program, artist, manager):
    member_invite = sent()
    services.accept_invitation(token=member_invite.secret, user=artist)  # artist is a member
    assert Membership.objects.filter(program=program, artist=artist).count() == 1
    role_invite = sent(email="m@example.org", role="manager")
    services.accept_invitation(token=role_invite.secret, user=manager)  # already a manager
    assert StaffRole.objects.filter(program=program, user=manager, role="manager").count() == 1
    assert Invitation.objects.filter(status="accepted").count() == 2


def test_expired_link_is_refused_with_nothing_written(sent, program):
    invitation = sent()
    person = UserFactory(username="late")
    events = AuditEvent.objects.count()
    with clock.frozen(clock.now() + dt.timedelta(days=14, seconds=1)):
        assert Invitation.objects.get(pk=invitation.pk).shown_status == "expired"
        with pytest.raises(InvitationUnusable) as caught:
            services.accept_invitation(token=invitation.secret, user=person)
        assert caught.value.reason == "expired"
        with pytest.raises(InvitationUnusable):
            services.accept_invitation_as_new_user(
                token=invitation.secret, username="fresh", password=PASSWORD
            )
        with pytest.raises(InvalidTransition):  # nothing left to revoke
            services.revoke_invitation(actor=invitation.created_by, invitation=invitation)
    assert not User.objects.filter(username="fresh").exists()
    assert not Membership.objects.filter(artist=person).exists()
    assert AuditEvent.objects.count() == events
    # A day before it expires, it still works.
    with clock.frozen(invitation.expires_at - dt.timedelta(days=1)):
        services.accept_invitation(token=invitation.secret, user=person)
    assert Membership.objects.filter(program=program, artist=person).exists()


def test_revoke(sent, manager, program, admin):
    invitation = sent()
    reviewer = UserFactory(username="reviewer1")
    services.grant_role(actor=admin, program=program, user=reviewer, role="reviewer")
    with pytest.raises(NotAllowed):
        services.revoke_invitation(actor=reviewer, invitation=invitation)
    revoked = services.revoke_invitation(actor=manager, invitation=invitation)
    assert revoked.status == "revoked"
    assert audit_actions(invitation) == ["invitation.create", "invitation.revoke"]
    with pytest.raises(InvalidTransition):
        services.revoke_invitation(actor=manager, invitation=invitation)
    with pytest.raises(InvitationUnusable) as caught:
        services.accept_invitation(token=invitation.secret, user=reviewer)
    assert caught.value.reason == "revoked"


@pytest.mark.parametrize("token", ["", "nope", "x" * 500, "\x00", None])
def test_unknown_links(token, sent):
    sent()
    with pytest.raises(InvitationUnusable) as caught:
        services.find_invitation(token)
    assert caught.value.reason == "unknown"


def test_new_account_through_the_link(sent, program):
    invitation = sent(display_name="Nia Okoro")
    user, accepted = services.accept_invitation_as_new_user(
        token=invitation.secret, username="nia", password=PASSWORD
    )
    assert (user.email, user.display_name) == ("newcomer@example.org", "Nia Okoro")
    assert user.check_password(PASSWORD)
    assert accepted.accepted_by == user
    assert Membership.objects.filter(program=program, artist=user).exists()
    with pytest.raises(InvitationUnusable):
        services.accept_invitation_as_new_user(
            token=invitation.secret, username="nia2", password=PASSWORD
        )
    assert not User.objects.filter(username="nia2").exists()


def test_staff_see_accepted_invitees_not_pending_ones(sent, manager, program, admin):
    """`/artists/` and enrolment read `User.objects.visible_to`: an invitee is visible once
    it accepted (a staff invitee too); an account whose email a pending invitation names is
    not, so inviting cannot be used to find out which addresses have accounts."""
    holder = UserFactory(username="holder", email="holder@example.org")
    sent(email="holder@example.org")
    assert not User.objects.visible_to(manager).filter(pk=holder.pk).exists()
    auditor_invite = sent(email="aud@example.org", role="auditor")
    auditor = UserFactory(username="aud")
    services.accept_invitation(token=auditor_invite.secret, user=auditor)
    assert User.objects.visible_to(manager).filter(pk=auditor.pk).exists()
    # So a manager of another program sees neither, and can enrol only whom it sees.
    other = make_program(admin, currency="EUR")
    services.grant_role(actor=admin, program=other, user=manager, role="manager")
    services.enroll_artist(actor=manager, program=other, artist=auditor)
    with pytest.raises(ValidationFailed):
        services.enroll_artist(actor=manager, program=other, artist=holder)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_use_the_link_once(admin, program, mailoutbox):
    invitation = services.invite(actor=admin, program=program, email="race@example.org")
    people = [UserFactory(username=f"racer{i}") for i in range(6)]
    barrier = threading.Barrier(len(people))
    results = []

    def worker(person):
        try:
            barrier.wait(timeout=10)
            results.append(services.accept_invitation(token=invitation.secret, user=person))
        except Exception as error:  # collected and asserted below
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(isinstance(r, Invitation) for r in results) == 1, results
    assert all(isinstance(r, InvitationUnusable) for r in results if not isinstance(r, Invitation))
    assert Membership.objects.filter(program=program, artist__in=people).count() == 1
