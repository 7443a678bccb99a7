"""The pages of notifications and acknowledgements: the unread count in every page's navigation,
the inbox (each person's own), the email preference, and the artist's "Confirm I received this"
with what statements and the home page then show."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from ledger import services
from ledger.models import Notification, NotificationKind, Payout
from ledger.notifications import notify
from tests.conftest import accepted_work, log_feedback

from .pages import buttons

pytestmark = pytest.mark.django_db


def tell(user, subject, message="Something happened", program=None):
    return notify(
        user=user,
        kind=NotificationKind.CONTRIBUTION_REVIEWED,
        message=message,
        subject=subject,
        program=program,
    )


def nav_html(response) -> str:
    html = response.content.decode()
    return re.search(r'<ul class="nav-links">(.*?)</nav>', html, re.S).group(1)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the unread count ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/programs/", "/notifications/", "/tokens/"])
def test_every_page_shows_the_unread_count_in_words(client_for, artist, program, path):
    work = log_feedback(program, artist)
    for _ in range(3):
        tell(artist, work)
    services.mark_read(notification=tell(artist, work), user=artist)
    nav = nav_html(client_for(artist).get(path))
    link = re.search(r'<a href="/notifications/"[^>]*>(.*?)</a>', nav, re.S).group(1)
    assert text(link) == "Notifications 3 unread"  # a number and a word, not a colour
    assert 'class="visually-hidden"> unread' in link


def test_nothing_unread_shows_no_count_and_costs_one_query(client_for, artist, program):
    client = client_for(artist)
    client.get("/programs/")  # the session settled
    with CaptureQueriesContext(connection) as queries:
        nav = nav_html(client.get("/programs/"))
    assert re.search(r'<a href="/notifications/"[^>]*>Notifications</a>', nav)
    inbox_sql = [q["sql"] for q in queries if "ledger_notification" in q["sql"]]
    assert len(inbox_sql) == 1 and "read_at IS NULL" in inbox_sql[0]


def test_anonymous_pages_have_no_inbox(client, program):
    assert b"/notifications/" not in client.get("/transparency/").content


# --- the inbox ------------------------------------------------------------------------------------


def test_the_inbox_lists_the_readers_own_with_links(client_for, admin, artist, artist2, program):
    work = log_feedback(program, artist)
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
    )  # tells the artist: "A grant of $1.00 was paid to you…"
    invitation = services.invite(actor=admin, program=program, email="x@example.org")
    tell(artist, work, "About the work")
    tell(artist, invitation, "About an invitation", program=program)
    tell(artist2, work, "Not yours")
    html = client_for(artist).get("/notifications/").content.decode()
    assert "About the work" in html and "was paid to you" in html
    assert "Not yours" not in html
    assert f'href="/contributions/{work.pk}/"' in html
    assert f'href="/payouts/{payout.pk}/"' in html
    assert f'href="/programs/{program.pk}/invitations/"' in html
    assert "Payout recorded" in html and "Contribution reviewed" in html  # the kinds
    assert html.count("<strong>Unread</strong>") == 3


def test_mark_read_mark_all_and_the_unread_filter(client_for, artist, artist2, program):
    client = client_for(artist)
    first, second, _ = (tell(artist, program, f"n{i}") for i in range(3))
    theirs = tell(artist2, program, "theirs")
    response = client.post(f"/notifications/{first.pk}/read/", {"next": "/notifications/"})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert Notification.objects.get(pk=first.pk).read_at is not None
    unread = client.get("/notifications/?unread=true").content.decode()
    assert "n1" in unread and "n2" in unread and ">n0<" not in unread
    # Someone else's: not found, and untouched.
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get(f"/notifications/{second.pk}/read/").status_code == 405
    page = client.post("/notifications/read-all/", follow=True).content.decode()
    assert "Marked 2 notifications read." in page
    assert not Notification.objects.of(artist).unread().exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert "Mark all read" not in buttons(client.get("/notifications/"))


def test_the_email_preference_page(client_for, artist):
    client = client_for(artist)
    page = client.get("/account/notifications/").content.decode()
    assert artist.email in page and 'name="email_notifications"' in page and "checked" in page
    response = client.post("/account/notifications/", {})  # the box unticked
    assert response.status_code == 302
    assert User.objects.get(pk=artist.pk).email_notifications is False
    assert "Emails: off" in client.get("/notifications/").content.decode()
    client.post("/account/notifications/", {"email_notifications": "on"})
    assert User.objects.get(pk=artist.pk).email_notifications is True


# --- confirming a payment -------------------------------------------------------------------------


@pytest.fixture
def paid(admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    return services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=3000, kind="settlement"
    )


def test_the_artist_confirms_on_the_payout_page(client_for, artist, paid):
    client = client_for(artist)
    page = client.get(f"/payouts/{paid.pk}/")
    assert buttons(page) == {"Confirm I received this": True}
    assert "Not yet confirmed by you" in page.content.decode()
    done = client.post(f"/payouts/{paid.pk}/confirm/", follow=True).content.decode()
    assert "you confirmed receiving the $30.00 settlement" in done
    assert "Confirmed by you" in done
    assert "Confirm I received this" not in buttons(client.get(f"/payouts/{paid.pk}/"))
    again = client.post(f"/payouts/{paid.pk}/confirm/", follow=True).content.decode()
    assert "already confirmed" in again
    assert Payout.objects.get(pk=paid.pk).acknowledged == "confirmed"


def test_staff_see_the_receipt_but_may_not_confirm(client_for, admin, artist2, paid):
    client = client_for(admin)
    page = client.get(f"/payouts/{paid.pk}/")
    assert "Confirm I received this" not in buttons(page)
    assert "Not yet confirmed by the artist" in page.content.decode()
    refused = client.post(f"/payouts/{paid.pk}/confirm/", follow=True).content.decode()
    assert "Only the artist paid may confirm" in refused
    assert Payout.objects.get(pk=paid.pk).acknowledged is None
    assert "receipt not confirmed yet" in client.get("/payouts/").content.decode()
    services.confirm_payout(payout=paid, actor=paid.artist)
    assert "receipt confirmed" in client.get("/payouts/").content.decode()
    # Another artist does not see it at all.
    assert client_for(artist2).post(f"/payouts/{paid.pk}/confirm/").status_code == 404


def test_statement_and_home_show_confirmed_and_unconfirmed(
    client_for, admin, artist, program, paid
):
    second = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1500, kind="grant"
    )
    services.confirm_payout(payout=paid, actor=artist)
    client = client_for(artist)
    statement = client.get(f"/programs/{program.pk}/statement/").content.decode()
    assert statement.count("Receipt confirmed by the artist") == 1
    assert statement.count("Receipt not yet confirmed by the artist") == 1
    assert (
        "Payments confirmed received by the artist: <strong>$30.00</strong>; "
        "not yet confirmed: <strong>$15.00</strong>."
    ) in statement
    home = client.get("/").content.decode()
    assert "Payments you have not confirmed receiving: <strong>$15.00</strong> in 1 payment" in home
    assert (
        'status-confirmed">Confirmed<' in home and 'status-unconfirmed">Not yet confirmed<' in home
    )
    services.confirm_payout(payout=second, actor=artist)
    assert "not confirmed receiving" not in client.get("/").content.decode()


def test_the_pdf_statement_says_it_too(client_for, artist, program, paid):
    from ledger import queries
    from ledger.exports.pdf import statement_html

    services.confirm_payout(payout=paid, actor=artist)
    html = statement_html(queries.statement(artist=artist, program=program))
    assert "Receipt confirmed by the artist" in html
    assert "Payments confirmed received by the artist" in html


def test_the_transparency_page_shows_paid_confirmed(client_for, admin, artist, program, paid):
    services.confirm_payout(payout=paid, actor=artist)
    html = client_for(admin).get(f"/programs/{program.pk}/transparency/").content.decode()
    assert 'data-testid="paid-confirmed">$30.00<' in html
