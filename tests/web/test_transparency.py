"""The public transparency pages."""

import pytest

from ledger import services
from ledger.models import LedgerHead
from tests.conftest import accepted_work, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_program(admin, artist, artist2):
    program = make_program(admin, public=True)
    for person in (artist, artist2):
        services.enroll_artist(actor=admin, program=program, artist=person)
        accepted_work(program, person, admin, hours="2.00")
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=4000, kind="settlement"
    )
    services.record_payout(
        actor=admin, artist=artist2, program=program, amount_minor=1000, kind="grant"
    )
    return program


def test_transparency_shows_figures_without_identities(client, settings, public_program, artist):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 2
    response = client.get(f"/programs/{public_program.pk}/transparency/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="contributors">2<' in html
    assert 'data-testid="valued">$180.00<' in html
    assert 'data-testid="outstanding">$130.00<' in html
    assert "$40.00" in html and "$10.00" in html  # settlements and grants apart
    assert 'data-testid="paid">$50.00<' in html
    assert "27.8 %" in html
    head = LedgerHead.objects.get(program=public_program)
    assert head.seq > 0 and head.hash in html
    assert artist.username not in html.lower() and str(artist) not in html
    assert "<title id=" in html


def test_transparency_withheld_below_minimum(client, settings, public_program):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 3
    html = client.get(f"/programs/{public_program.pk}/transparency/").content.decode()
    assert "withheld" in html
    assert "$180.00" not in html
    assert 'data-testid="contributors"' not in html


def test_transparency_insiders_see_figures_below_minimum(
    client_for, settings, public_program, artist
):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 3
    html = client_for(artist).get(f"/programs/{public_program.pk}/transparency/").content.decode()
    assert "$180.00" in html


def test_private_program_report_is_404_to_anonymous(client, client_for, admin, artist, program):
    assert client.get(f"/programs/{program.pk}/transparency/").status_code == 404
    assert client.get("/programs/999999/transparency/").status_code == 404
    outsider = UserFactory(username="outsider")
    assert client_for(outsider).get(f"/programs/{program.pk}/transparency/").status_code == 404
    assert client_for(artist).get(f"/programs/{program.pk}/transparency/").status_code == 200


def test_transparency_index_lists_public_programs_only(client, public_program, program):
    html = client.get("/transparency/").content.decode()
    assert f"/programs/{public_program.pk}/transparency/" in html
    assert f"/programs/{program.pk}/transparency/" not in html
