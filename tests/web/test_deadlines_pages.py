"""Deadlines on the pages: the settings form, overdue work flagged in words wherever work is
listed, the artist's home, and overdue money for the artist, staff and the public."""

import datetime as dt
import re

import pytest

from ledger import clock, services
from tests.conftest import TODAY, accepted_work, log_bug, log_feedback, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FLAG = "Review overdue"


def on(day: dt.date):
    return clock.frozen(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def text(response) -> str:
    """The page's visible text, roughly: tags dropped, whitespace folded."""
    return _text(response.content.decode())


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def row_of(response, title: str) -> str:
    """The text of the table row naming `title`."""
    rows = re.findall(r"<tr\b.*?</tr>", response.content.decode(), flags=re.S)
    (row,) = [_text(r) for r in rows if title in r]
    return row


@pytest.fixture
def work(admin, artist, artist2, program):
    """An overdue feedback (due 6 days ago), work due later, and reviewed work."""
    with on(days_ago(20)):
        late = log_feedback(program, artist, "2.00")
        done = accepted_work(program, artist, admin, "1.00")
    with on(days_ago(2)):
        fresh = log_bug(program, artist2)
    late.title, fresh.title = "Late session", "Fresh bug"
    for c in (late, fresh):
        type(c).objects.filter(pk=c.pk).update(title=c.title)
    return {"late": late, "fresh": fresh, "done": done}


def test_settings_page_edits_the_deadlines(client_for, admin, artist, program):
    with on(days_ago(6)):
        waiting = log_feedback(program, artist)
    url = f"/programs/{program.pk}/settings/"
    client = client_for(admin)
    page = client.get(url).content.decode()
    for name, value in (("review_within_days", 14), ("pay_within_days", 30)):
        assert re.search(rf'name="{name}" value="{value}"', page), name
    assert 'name="auto_accept_overdue"' in page
    fields = {"name": program.name, "status": "active", "description": ""}
    fields |= {"review_within_days": 3, "pay_within_days": 10, "dispute_window_days": 5}
    for bad in ("0", "366", "1.5", "x", ""):
        response = client.post(url, fields | {"review_within_days": bad})
        assert response.status_code == 200
        assert 'id="id_review_within_days_error"' in response.content.decode(), bad
    program.refresh_from_db()
    assert program.review_within_days == 14
    response = client.post(url, fields | {"auto_accept_overdue": "on"})
    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.review_within_days, program.pay_within_days) == (3, 10)
    assert (program.dispute_window_days, program.auto_accept_overdue) == (5, True)
    waiting.refresh_from_db()
    assert waiting.review_due_on == days_ago(3) and waiting.is_overdue
    detail = text(client.get(f"/programs/{program.pk}/"))
    assert "reviewed within 3 days of its submission (or accepted automatically)" in detail
    assert "paid within 10 days of its acceptance" in detail


def test_lists_flag_overdue_work_in_words(client_for, admin, artist, work):
    for user in (admin, artist):
        response = client_for(user).get("/contributions/")
        assert text(response).count(FLAG) == 1
        assert f"Submitted {FLAG} due {days_ago(6).isoformat()}" in row_of(response, "Late session")
        assert FLAG not in row_of(response, "Feedback session")
    only = text(client_for(admin).get("/contributions/?overdue=on"))
    assert "Late session" in only and "Fresh bug" not in only and "1 contribution." in only


def test_review_queue_shows_due_dates_oldest_first(client_for, admin, work):
    response = client_for(admin).get("/review/")
    page = text(response)
    assert "2 contributions waiting, oldest first; 1 past its review deadline" in page
    assert page.index("Late session") < page.index("Fresh bug")
    assert page.count(FLAG) == 1
    assert f"{FLAG} due {days_ago(6).isoformat()}" in row_of(response, "Late session")
    fresh = row_of(response, "Fresh bug")  # its due date, not flagged
    assert (days_ago(2) + dt.timedelta(days=14)).isoformat() in fresh and FLAG not in fresh
    only = text(client_for(admin).get("/review/?overdue=on"))
    assert "Late session" in only and "Fresh bug" not in only


def test_contribution_page_says_overdue_then_who_accepted(client_for, admin, artist, program, work):
    url = f"/contributions/{work['late'].pk}/"
    page = text(client_for(artist).get(url))
    assert FLAG in page and f"Review due {days_ago(6).isoformat()} (overdue)" in page
    assert FLAG not in text(client_for(artist).get(f"/contributions/{work['fresh'].pk}/"))
    services.apply_deadlines()  # the program does not accept overdue work: a reminder
    page = text(client_for(admin).get(url))
    assert f"Reviewers reminded: its review was due {days_ago(6).isoformat()}" in page
    services.update_program(actor=admin, program=program, auto_accept_overdue=True)
    services.apply_deadlines()
    page = text(client_for(artist).get(url))
    assert FLAG not in page
    assert "Accepted by the system" in page and "not reviewed by its due date" in page


def test_artist_home_lists_work_waiting_past_its_deadline(client_for, admin, artist, program, work):
    with on(days_ago(45)):
        accepted_work(program, artist, admin, "2.00")  # $90.00 unpaid for 45 days
    page = text(client_for(artist).get("/"))
    assert "Your work waiting past its review deadline" in page
    section = page[page.index("Your work waiting past") : page.index("Recent activity")]
    assert "Late session" in section and FLAG in section and "Fresh bug" not in section
    assert "Overdue for payment $90.00 unpaid more than 30 days after acceptance" in page
    assert f"Oldest unpaid work, accepted on {days_ago(45).isoformat()}" in page
    # Nothing overdue: no such section.
    artist2_page = text(client_for(work["fresh"].artist).get("/"))
    assert "waiting past its review deadline" not in artist2_page


def test_staff_see_overdue_money_and_reviews(client_for, admin, artist, artist2, program, work):
    with on(days_ago(45)):
        accepted_work(program, artist2, admin, "2.00")
    client = client_for(admin)
    detail = text(client.get(f"/programs/{program.pk}/"))
    assert "1 contribution past its review deadline." in detail
    assert f"$90.00 overdue; oldest unpaid work accepted {days_ago(45).isoformat()}" in detail
    balances = text(client.get("/payouts/"))
    assert f"$90.00 overdue; oldest unpaid work accepted {days_ago(45).isoformat()}" in balances
    dashboard = text(client.get("/"))
    assert "2 contributions waiting for your review, 1 past its review deadline" in dashboard
    statement = text(client.get(f"/programs/{program.pk}/statement/?artist={artist2.pk}"))
    assert "Overdue for payment today $90.00" in statement
    assert f"Oldest unpaid work, accepted on {days_ago(45).isoformat()}" in statement


def test_program_page_reads_every_members_figures_at_a_constant_cost(
    client_for, admin, program, django_assert_max_num_queries
):
    client = client_for(admin)
    url = f"/programs/{program.pk}/"
    client.get(url)
    for i in range(6):
        person = UserFactory(username=f"many{i}")
        services.enroll_artist(actor=admin, program=program, artist=person)
        with on(days_ago(40)):
            accepted_work(program, person, admin)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert text(response).count("$90.00 overdue") == 6


def test_transparency_shows_overdue_figures_unless_withheld(client, admin, artist, settings):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 1
    public = make_program(admin, public=True)
    services.enroll_artist(actor=admin, program=public, artist=artist)
    with on(days_ago(40)):
        accepted_work(public, artist, admin)
    with on(days_ago(20)):
        log_bug(public, artist)
    page = text(client.get(f"/programs/{public.pk}/transparency/"))
    assert "Overdue for payment $90.00 unpaid more than 30 days after acceptance" in page
    assert "Reviews overdue 1 work waiting more than 14 days for review" in page
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 2
    page = text(client.get(f"/programs/{public.pk}/transparency/"))
    assert "Figures are withheld" in page
    assert "Overdue for payment" not in page and "Reviews overdue" not in page
