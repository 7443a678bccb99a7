"""The home page for artists and staff."""

import pytest
from django.urls import reverse

from ledger import services
from tests.conftest import accepted_work, log_bug, log_feedback

pytestmark = pytest.mark.django_db


def test_artist_home_shows_valued_paid_outstanding_pending(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # 2 h × $45.00 = $90.00
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=2000, kind="grant"
    )
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=3000, kind="settlement"
    )
    log_bug(program, artist, severity="medium")  # pending $50.00
    response = client_for(artist).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "$90.00" in html
    assert "$20.00" in html and "$30.00" in html
    assert f'data-testid="outstanding-{program.pk}">$40.00<' in html
    assert "$50.00" in html
    assert "<title id=" in html and "<desc id=" in html
    assert "Chart data as a table" in html


def test_artist_home_with_no_program(client_for, artist):
    response = client_for(artist).get("/")
    assert b"not a member of any program" in response.content


def test_admin_home_is_a_dashboard(client_for, admin, artist, program):
    log_feedback(program, artist)
    response = client_for(admin).get("/")
    assert response.status_code == 200
    assert reverse("review_queue").encode() in response.content
    assert reverse("payouts").encode() in response.content
