"""The invitations page of a program, and the page behind the emailed link: joining with a
new login, an existing one, or the one already signed in; links that no longer work."""

import datetime as dt
import re

import pytest

from accounts.models import User
from ledger import clock, services
from ledger.models import AuditEvent, Invitation, Membership, StaffRole
from tests.conftest import make_program
from tests.factories import PASSWORD, UserFactory

from .pages import field_error

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-longer-passphrase-2026"


@pytest.fixture
def invitation(manager, program):
    return services.invite(
        actor=manager, program=program, email="nia@example.org", display_name="Nia Okoro"
    )


def page(program):
    return f"/programs/{program.pk}/invitations/"


def link(invitation):
    return f"/invitations/{invitation.secret}/"


# --- The program's invitations page -------------------------------------------------------


def test_manager_invites_from_the_page(
    client_for, manager, program, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(manager)
    html = client.get(f"/programs/{program.pk}/").content.decode()
    assert f'href="{page(program)}"' in html  # the program page links managers here
    assert "Send invitation" in client.get(page(program)).content.decode()

    response = client.post(page(program), {"email": "not-an-address", "role": "owner"})
    assert response.status_code == 200
    assert "valid email" in field_error(response, "email")
    assert "valid choice" in field_error(response, "role")
    assert not Invitation.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            page(program), {"email": "ada@example.org", "display_name": "Ada", "role": "reviewer"}
        )
    assert response.status_code == 302 and response.url == page(program)
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.created_by) == (
        "ada@example.org",
        "reviewer",
        manager,
    )
    assert len(mailoutbox) == 1
    html = client.get(page(program)).content.decode()
    assert "ada@example.org" in html and "Reviewer" in html and "Pending" in html

    # Joining as a member: the empty role.
    client.post(page(program), {"email": "bo@example.org", "role": ""})
    assert Invitation.objects.get(email="bo@example.org").role is None


def test_manager_revokes_from_the_page(client_for, manager, program, invitation):
    client = client_for(manager)
    revoke = f"{page(program)}{invitation.pk}/revoke/"
    assert 'action="' + revoke + '"' in client.get(page(program)).content.decode()
    response = client.post(revoke)
    assert response.status_code == 302
    assert Invitation.objects.get().status == "revoked"
    html = client.get(page(program)).content.decode()
    assert "Revoked" in html and revoke not in html  # no button for what would be refused
    response = client.post(revoke, follow=True)
    assert "only a pending one can be revoked" in response.content.decode()


def test_who_sees_the_page(client_for, admin, program, artist, invitation):
    auditor = UserFactory(username="auditor1")
    services.grant_role(actor=admin, program=program, user=auditor, role="auditor")
    client = client_for(auditor)
    html = client.get(page(program)).content.decode()
    assert "nia@example.org" in html and "Send invitation" not in html and "Revoke" not in html
    assert page(program) not in client.get(f"/programs/{program.pk}/").content.decode()
    assert client.post(page(program), {"email": "x@example.org"}).status_code == 403
    assert client.post(f"{page(program)}{invitation.pk}/revoke/").status_code == 403

    member = client_for(artist)
    assert page(program) not in member.get(f"/programs/{program.pk}/").content.decode()
    assert member.get(page(program)).status_code == 403

    other = make_program(admin, currency="EUR")
    stranger = UserFactory(username="stranger")
    services.grant_role(actor=admin, program=other, user=stranger, role="manager")
    outsider = client_for(stranger)
    assert outsider.get(page(program)).status_code == 404
    assert outsider.post(f"{page(program)}{invitation.pk}/revoke/").status_code == 404
    assert outsider.post(f"{page(other)}{invitation.pk}/revoke/").status_code == 404
    assert Invitation.objects.get().status == "pending"
    assert Invitation.objects.count() == 1


# --- The link ------------------------------------------------------------------------------


def test_new_login_through_the_link(client, program, invitation):
    response = client.get(link(invitation))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    html = response.content.decode()
    assert program.name in html and "member (artist)" in html
    assert 'value="nia@example.org"' in html and 'value="Nia Okoro"' in html

    data = {
        "step": "sign_up",
        "new-username": "nia",
        "new-display_name": "Nia Okoro",
        "new-email": "nia@example.org",
        "new-password1": "12345678",
        "new-password2": "something else",
    }
    response = client.post(link(invitation), data)
    assert response.status_code == 200
    assert "differ" in field_error(response, "new-password2")
    response = client.post(link(invitation), data | {"new-password2": "12345678"})
    error = field_error(response, "new-password1")  # Django's validators
    assert "too common" in error and "entirely numeric" in error
    UserFactory(username="taken")
    response = client.post(link(invitation), data | {"new-username": "TAKEN"})
    assert "taken" in field_error(response, "new-username")
    assert not User.objects.filter(username="nia").exists()
    assert Invitation.objects.get().status == "pending"

    response = client.post(
        link(invitation), data | {"new-password1": NEW_PASSWORD, "new-password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response.url == f"/programs/{program.pk}/"
    nia = User.objects.get(username="nia")
    assert nia.check_password(NEW_PASSWORD) and nia.email == "nia@example.org"
    assert Membership.objects.filter(program=program, artist=nia).exists()
    html = client.get(response.url).content.decode()  # signed in, on the program's page
    assert "You joined" in html and program.name in html
    # The link is used up.
    assert client.get(link(invitation)).status_code == 410


def test_existing_login_signs_in_and_joins(client, admin, program):
    invitation = services.invite(
        actor=admin, program=program, email="x@example.org", role="auditor"
    )
    person = UserFactory(username="existing")
    wrong = client.post(
        link(invitation),
        {"step": "sign_in", "signin-username": "existing", "signin-password": "wrong"},
    )
    assert wrong.status_code == 200
    assert "correct username and password" in wrong.content.decode()
    assert not StaffRole.objects.filter(user=person).exists()
    response = client.post(
        link(invitation),
        {"step": "sign_in", "signin-username": "existing", "signin-password": PASSWORD},
    )
    assert response.status_code == 302
    assert StaffRole.objects.filter(program=program, user=person, role="auditor").exists()
    assert client.get("/").status_code == 200  # signed in


def test_signed_in_user_joins_with_one_button(client_for, program, invitation, artist2):
    newcomer = UserFactory(username="newcomer")
    client = client_for(newcomer)
    html = client.get(link(invitation)).content.decode()
    assert "signed in as" in html and 'name="signin-password"' not in html
    response = client.post(link(invitation), {"step": "join"})
    assert response.status_code == 302
    assert Invitation.objects.get().accepted_by == newcomer
    assert Membership.objects.filter(program=program, artist=newcomer).exists()


@pytest.mark.parametrize("how", ["expired", "revoked", "accepted"])
def test_dead_links_are_a_clear_page_and_write_nothing(client, client_for, invitation, how):
    if how == "revoked":
        services.revoke_invitation(actor=invitation.created_by, invitation=invitation)
    elif how == "accepted":
        services.accept_invitation(token=invitation.secret, user=UserFactory(username="first"))
    events = AuditEvent.objects.count()
    later = clock.frozen(clock.now() + dt.timedelta(days=15 if how == "expired" else 0))
    with later:
        response = client.get(link(invitation))
        assert response.status_code == 410
        heading = re.search(r"<h1>(.*?)</h1>", response.content.decode()).group(1)
        assert {"expired": "expired", "revoked": "withdrawn", "accepted": "used"}[how] in heading
        response = client.post(
            link(invitation),
            {
                "step": "sign_up",
                "new-username": "late",
                "new-email": "late@example.org",
                "new-password1": NEW_PASSWORD,
                "new-password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 410
        signed_in = client_for(UserFactory(username="signed-in"))
        assert signed_in.post(link(invitation), {"step": "join"}).status_code == 410
    assert not User.objects.filter(username="late").exists()
    assert AuditEvent.objects.count() == events


def test_unknown_link_is_404(client):
    response = client.get("/invitations/not-a-real-link/")
    assert response.status_code == 404
    assert "does not work" in response.content.decode()


def test_signing_in_to_join_asks_an_enrolled_person_for_the_code_first(
    client, admin, program, otp_clock
):
    from tests.second_factor import enrol

    invitation = services.invite(actor=admin, program=program, email="y@example.org")
    person = UserFactory(username="enrolled-joiner")
    key = "3132333435363738393031323334353637383930"
    enrol(person, otp_clock, key)
    response = client.post(
        link(invitation),
        {"step": "sign_in", "signin-username": person.username, "signin-password": PASSWORD},
    )
    # The password alone neither signs in nor joins: the code step comes first.
    assert response.status_code == 302 and response["Location"].startswith("/login/code/")
    assert not Membership.objects.filter(program=program, artist=person).exists()
    assert client.get("/").status_code == 302  # not signed in yet
    done = client.post("/login/code/", {"code": otp_clock.code(key)})
    assert done.status_code == 302 and done["Location"] == link(invitation)
    assert client.post(link(invitation), {"step": "join"}).status_code == 302
    assert Membership.objects.filter(program=program, artist=person).exists()
