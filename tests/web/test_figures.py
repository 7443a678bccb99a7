"""What the pages' figures say: nothing that does not count shown as value, estimates marked as
estimates, money paid ahead never shown as a debt, ISO dates in every date field, one heading
per statement, and a new token's secret readable and copyable."""

import re

import pytest

from ledger import services
from tests.conftest import accepted_work, log_bug, log_feedback

pytestmark = pytest.mark.django_db


def cell(html: str, label: str, row_text: str) -> str:
    """The text of the `data-label=label` cell in the table row containing `row_text`."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        if row_text in row:
            match = re.search(rf'data-label="{label}"[^>]*>(.*?)</td>', row, re.S)
            assert match, f"no {label} cell in the row of {row_text!r}"
            return re.sub(r"\s+", " ", match.group(1))
    raise AssertionError(f"no row contains {row_text!r}")


def test_my_work_shows_no_value_for_withdrawn_or_rejected_work(client_for, admin, artist, program):
    withdrawn = services.withdraw_contribution(
        contribution=log_bug(program, artist, "medium"), actor=artist
    )
    rejected = services.reject_contribution(
        contribution=log_feedback(program, artist, hours="1.50"), actor=admin, reason="Dup"
    )
    html = client_for(artist).get("/contributions/").content.decode()
    for work in (withdrawn, rejected):
        value = cell(html, "Value", f"/contributions/{work.pk}/")
        assert "$" not in value, value  # was "≈ $50.00" / "≈ $67.50", as if it counted
        assert "Not valued" in value


def test_my_work_marks_submitted_value_as_an_estimate(client_for, admin, artist, program):
    submitted = log_feedback(program, artist, hours="1.50")
    accepted = accepted_work(program, artist, admin)
    html = client_for(artist).get("/contributions/").content.decode()
    assert cell(html, "Value", f"/contributions/{submitted.pk}/").startswith(
        '<span class="muted">≈ $67.50<span class="visually-hidden"> (estimate)'
    )
    assert cell(html, "Value", f"/contributions/{accepted.pk}/") == "$90.00"


def test_review_queue_marks_its_values_as_estimates(client_for, admin, artist, program):
    work = log_feedback(program, artist, hours="1.50")
    html = client_for(admin).get("/review/").content.decode()
    assert '<th scope="col" class="num">Estimate</th>' in html
    assert cell(html, "Estimate", f"/contributions/{work.pk}/").startswith("≈ $67.50")
    assert "(estimate)" in cell(html, "Estimate", f"/contributions/{work.pk}/")


def grant_ahead(admin, artist, program, minor=7000):
    """A grant paid before any work was valued: the artist is paid ahead by `minor`."""
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=minor, kind="grant"
    )


def test_paid_ahead_is_never_shown_as_a_debt(client_for, admin, artist, artist2, program):
    grant_ahead(admin, artist, program)
    accepted_work(program, artist2, admin)  # $90.00 owed to artist2
    admin_client = client_for(admin)
    for url in ("/payouts/", f"/programs/{program.pk}/"):
        html = admin_client.get(url).content.decode()
        assert "-$70.00" not in html, url
        outstanding = re.sub(r"</?strong>", "", cell(html, "Outstanding", f">{artist}<"))
        assert outstanding.startswith("$0.00"), outstanding
        assert "$70.00 paid ahead of valued work" in outstanding
        assert "$90.00" in cell(html, "Outstanding", f">{artist2}<")
    html = client_for(artist).get("/").content.decode()
    assert "-$70.00" not in html
    assert "$70.00 paid ahead of valued work" in html


def test_settle_is_offered_only_when_something_is_owed(client_for, admin, artist, artist2, program):
    grant_ahead(admin, artist, program)  # paid ahead: -$70.00 before this change
    accepted_work(program, artist2, admin)  # $90.00 owed
    other = log_feedback(program, artist2)  # pending only: does not make anything owed
    assert other.status == "submitted"
    html = client_for(admin).get("/payouts/").content.decode()
    assert f'Settle<span class="visually-hidden"> {artist2} in {program.name}' in html
    assert f'Settle<span class="visually-hidden"> {artist} in' not in html


def test_settle_is_not_offered_on_a_zero_balance(client_for, admin, artist, program):
    html = client_for(admin).get("/payouts/").content.decode()
    assert f"> of {artist} in {program.name}</span></a>" in html  # the Statement link is there
    assert "Settle<span" not in html


def test_statement_has_one_heading_and_calls_a_negative_balance_paid_ahead(
    client_for, admin, artist, program
):
    grant_ahead(admin, artist, program)
    html = client_for(artist).get(f"/programs/{program.pk}/statement/").content.decode()
    headings = re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", html, re.S)
    assert headings.count("Statement") == 1, headings
    assert "(paid ahead of valued work)" in html
    closing = re.search(r"<dt>Closing balance</dt><dd>(.*?)</dd>", html, re.S).group(1)
    assert closing.startswith("$0.00") and "$70.00 paid ahead of valued work" in closing


def test_date_fields_take_iso_dates_as_text_not_a_locale_picker(client_for, admin, artist, program):
    """Chromium's date picker shows mm/dd/yyyy beside the ISO dates everywhere else."""
    pages = [
        (artist, f"/programs/{program.pk}/statement/", ["date_from", "date_to"]),
        (artist, "/contributions/new/feedback/", ["occurred_on"]),
        (admin, f"/programs/{program.pk}/", ["effective_from"]),
    ]
    for user, url, names in pages:
        html = client_for(user).get(url).content.decode()
        assert 'type="date"' not in html, url
        for name in names:
            tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
            assert tag, (url, name)
            tag = tag.group(0)
            assert 'type="text"' in tag and 'placeholder="YYYY-MM-DD"' in tag, tag
            assert r'pattern="\d{4}-\d{2}-\d{2}"' in tag, tag


def test_iso_date_is_accepted_and_shown_back_as_iso(client_for, artist, program):
    response = client_for(artist).get(
        f"/programs/{program.pk}/statement/", {"date_from": "2026-01-31"}
    )
    assert re.search(
        r'<input[^>]*name="date_from"[^>]*value="2026-01-31"', response.content.decode()
    )


def test_new_token_secret_is_monospace_with_a_copy_button(client_for, artist):
    response = client_for(artist).post("/tokens/", {"name": "sync"}, follow=True)
    html = response.content.decode()
    secret = re.search(r'<input[^>]*id="new-secret"[^>]*>', html).group(0)
    assert "secret" in re.search(r'class="([^"]*)"', secret).group(1).split()
    assert (
        '<button type="button" class="secondary" data-copy="new-secret" hidden>Copy</button>'
        in html
    )
    assert re.search(r'<script src="/static/js/copy\.js[^"]*" defer></script>', html)
