"""The artist's acknowledgement of a payout: only its artist, only a paid payout, once (a
repeat is the same answer), audited; statements and the report count confirmed payments, and
a payout voided after its confirmation no longer counts."""

import threading

import pytest
from django.db import connection, transaction

from ledger import queries, services
from ledger.errors import InvalidTransition, NotAllowed
from ledger.models import AuditEvent, Payout
from tests.conftest import accepted_work, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def grant(admin, artist, program, amount_minor=1000) -> Payout:
    return services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=amount_minor, kind="grant"
    )


def test_the_artist_confirms_once_with_an_audit_row(admin, artist, program):
    payout = grant(admin, artist, program)
    assert (payout.acknowledged, payout.acknowledged_at) == (None, None)
    confirmed = services.confirm_payout(payout=payout, actor=artist)
    assert confirmed.acknowledged == "confirmed" and confirmed.acknowledged_at is not None
    stored = Payout.objects.get(pk=payout.pk)
    assert (stored.acknowledged, stored.acknowledged_at) == ("confirmed", confirmed.acknowledged_at)
    again = services.confirm_payout(payout=payout, actor=artist)
    assert again.acknowledged_at == confirmed.acknowledged_at  # same answer, nothing changed
    audit = AuditEvent.objects.filter(action="payout.confirm", object_id=str(payout.pk))
    assert audit.count() == 1
    assert audit.get().actor_id == artist.pk and audit.get().program_id == program.pk


@pytest.mark.parametrize("who", ["other artist", "treasurer", "operator"])
def test_only_its_artist_confirms(admin, artist, artist2, program, who):
    treasurer = UserFactory(username="treasurer")
    services.grant_role(actor=admin, program=program, user=treasurer, role="treasurer")
    actor = {"other artist": artist2, "treasurer": treasurer, "operator": admin}[who]
    payout = grant(admin, artist, program)
    with pytest.raises(NotAllowed):
        services.confirm_payout(payout=payout, actor=actor)
    assert Payout.objects.get(pk=payout.pk).acknowledged is None
    assert services.confirmation_refusal(payout, actor) is not None
    assert services.confirmation_refusal(payout, artist) is None


def test_only_a_paid_payout_is_confirmed(admin, admin2, artist, program):
    accepted_work(program, artist, admin, hours="10.00")
    voided = grant(admin, artist, program)
    services.void_payout(payout=voided, actor=admin, reason="Recorded twice")
    services.update_program(actor=admin, program=program, approval_threshold_minor=5000)
    program.refresh_from_db()
    proposed = grant(admin, artist, program, amount_minor=6000)
    declined = grant(admin, artist, program, amount_minor=7000)
    services.decline_payout(payout=declined, actor=admin2, reason="No")
    for payout in (voided, proposed, declined):
        with pytest.raises(InvalidTransition):
            services.confirm_payout(payout=payout, actor=artist)
        assert Payout.objects.get(pk=payout.pk).acknowledged is None
    services.approve_payout(payout=proposed, actor=admin2)  # paid now: confirmable
    assert services.confirm_payout(payout=proposed, actor=artist).acknowledged == "confirmed"


def test_the_report_counts_confirmed_payments_until_voided(admin, artist, artist2, program):
    accepted_work(program, artist, admin, hours="10.00")
    first, second = grant(admin, artist, program, 1000), grant(admin, artist, program, 2500)
    grant(admin, artist2, program, 400)  # never confirmed
    assert queries.program_report(program).paid_confirmed_minor == 0
    services.confirm_payout(payout=first, actor=artist)
    services.confirm_payout(payout=second, actor=artist)
    report = queries.program_report(program)
    assert report.paid_confirmed_minor == 3500
    assert report.paid_minor == 3900
    services.void_payout(payout=second, actor=admin, reason="Bounced")
    assert queries.program_report(program).paid_confirmed_minor == 1000
    with pytest.raises(InvalidTransition):  # a void one cannot be confirmed again
        services.confirm_payout(payout=second, actor=artist)


def test_statements_show_which_payments_the_artist_confirmed(admin, artist, program):
    accepted_work(program, artist, admin, hours="10.00")
    confirmed, open_one = grant(admin, artist, program, 1000), grant(admin, artist, program, 2500)
    voided = grant(admin, artist, program, 300)
    services.confirm_payout(payout=confirmed, actor=artist)
    services.confirm_payout(payout=voided, actor=artist)
    services.void_payout(payout=voided, actor=admin, reason="Wrong account")
    statement = queries.statement(artist=artist, program=program)
    receipts = [(line.kind, line.payout_id, line.receipt) for line in statement.lines]
    assert receipts == [
        ("acceptance", None, None),
        ("payout", confirmed.pk, "confirmed"),
        ("payout", open_one.pk, "unconfirmed"),
        ("payout", voided.pk, None),  # voided since: neither
        ("void", None, None),
    ]
    assert statement.payments_minor("confirmed") == 1000
    assert statement.payments_minor("unconfirmed") == 2500


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_confirmations_and_a_void_at_once_leave_one_consistent_answer():
    """Every call locks the payout row: confirmations racing each other and a void write one
    confirmation at most, and whichever comes after the void is refused."""
    admin = UserFactory(username="race-admin", is_superuser=True)
    artist = UserFactory(username="race-artist")
    program = make_program(admin)
    services.enroll_artist(actor=admin, program=program, artist=artist)
    payout = grant(admin, artist, program)
    barrier = threading.Barrier(5)
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("done")
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    calls = [lambda: services.confirm_payout(payout=payout, actor=artist)] * 4
    calls.append(lambda: services.void_payout(payout=payout, actor=admin, reason="Bounced"))
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stored = Payout.objects.get(pk=payout.pk)
    assert stored.status == "void" and len(outcomes) == 5
    confirmed_before_the_void = outcomes.count("done") - 1  # the void always runs
    assert (stored.acknowledged == "confirmed") == (confirmed_before_the_void > 0)
    confirms = AuditEvent.objects.filter(action="payout.confirm").count()
    assert confirms == (1 if confirmed_before_the_void else 0)  # a repeat writes nothing
    assert queries.program_report(program).paid_confirmed_minor == 0


@pytest.mark.postgres
def test_paid_confirmed_can_be_read_from_its_index_alone(admin, artist, program):
    from ledger.queries.report import _PAID_CONFIRMED_SQL

    services.confirm_payout(payout=grant(admin, artist, program), actor=artist)
    with transaction.atomic(), connection.cursor() as cursor:
        for scan in ("seqscan", "bitmapscan", "indexscan"):  # index-only scans remain
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute("EXPLAIN " + _PAID_CONFIRMED_SQL, [program.pk])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using payout_confirmed" in plan, plan
