"""Decisions taken at the same moment by several staff, on PostgreSQL with real threads: a
proposal is paid once, approvals never overdraw, and a program never loses its last manager."""

import threading

import pytest
from django.db import connection

from ledger import services
from ledger.models import Entry, Payout, StaffRole
from tests.api.conftest import client_for
from tests.api.roles_world import build_world
from tests.conftest import accepted_work
from tests.factories import UserFactory

API = "/api/v1"


def run_at_once(calls):
    """Run each call in its own thread, released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i):
        try:
            barrier.wait()
            results[i] = calls[i]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def post(client, path, body=None):
    def call():
        response = client.post(f"{API}{path}", body or {}, "json")
        return response.status_code, response.json()

    return call


def delete(client, path):
    def call():
        response = client.delete(f"{API}{path}")
        return response.status_code, response.json() if response.content else None

    return call


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_approvals_of_one_proposal_pay_it_once():
    world = build_world()
    third = UserFactory()
    services.grant_role(actor=world.operator, program=world.a, user=third, role="treasurer")
    proposal = world.proposal()
    entries = Entry.objects.count()
    clients = [client_for(user) for user in (world.treasurer, third) for _ in range(4)]
    results = run_at_once([post(c, f"/payouts/{proposal.pk}/approve/") for c in clients])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 7, results
    assert {body["code"] for status, body in results if status == 409} == {"invalid_transition"}
    assert Entry.objects.count() == entries + 1
    assert Entry.objects.filter(payout=proposal).count() == 1
    proposal.refresh_from_db()
    assert proposal.status == "paid"
    verify = client_for(world.auditor).get(f"{API}/ledger/verify/?program={world.a.pk}").json()
    assert verify["ok"] is True


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_approvals_and_declines_of_one_proposal_decide_it_once():
    world = build_world()
    proposal = world.proposal()
    approve = post(client_for(world.treasurer), f"/payouts/{proposal.pk}/approve/")
    decline = post(client_for(world.operator), f"/payouts/{proposal.pk}/decline/", {"reason": "x"})
    results = run_at_once([approve, decline, approve, decline])
    assert sorted(status for status, _ in results) == [200, 409, 409, 409], results
    proposal.refresh_from_db()
    assert Entry.objects.filter(payout=proposal).count() == (proposal.status == "paid")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_approving_settlements_that_together_exceed_the_balance_posts_one():
    world = build_world()
    accepted_work(world.a, world.artist, world.operator, hours="24")  # 90.00 + 1,080.00 owed
    owed = 117_000
    first = world.proposal(amount_minor=owed - 100, kind="settlement")
    second = world.proposal(amount_minor=owed - 100, kind="settlement")
    treasurer = client_for(world.treasurer)
    results = run_at_once(
        [
            post(treasurer, f"/payouts/{first.pk}/approve/"),
            post(client_for(world.operator), f"/payouts/{second.pk}/approve/"),
        ]
    )
    assert sorted(status for status, _ in results) == [200, 409], results
    assert {body["code"] for status, body in results if status == 409} == {"insufficient_balance"}
    statuses = sorted(Payout.objects.filter(pk__in=[first.pk, second.pk]).values_list("status"))
    assert statuses == [("paid",), ("proposed",)]
    assert Entry.objects.filter(payout__in=[first, second]).count() == 1
    verify = client_for(world.operator).get(f"{API}/ledger/verify/?program={world.a.pk}").json()
    assert verify["ok"] is True


def _two_managers(world, program):
    """Make `world.manager` and a second person the only managers of `program`."""
    second = UserFactory()
    services.grant_role(actor=world.operator, program=program, user=second, role="manager")
    if not StaffRole.objects.filter(program=program, user=world.manager, role="manager").exists():
        services.grant_role(
            actor=world.operator, program=program, user=world.manager, role="manager"
        )
    return second


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_removing_each_other_leave_one():
    world = build_world()
    for round_ in range(5):
        program = services.create_program(
            actor=world.operator, name=f"Race {round_}", currency="USD"
        )
        second = _two_managers(world, program)
        StaffRole.objects.filter(program=program, user=world.operator).delete()
        rows = {r.user_id: r.pk for r in StaffRole.objects.filter(program=program)}
        path = f"/programs/{program.pk}/staff/"
        results = run_at_once(
            [
                delete(client_for(world.manager), f"{path}{rows[second.pk]}/"),
                delete(client_for(second), f"{path}{rows[world.manager.pk]}/"),
            ]
        )
        # The other is refused: no longer a manager (403, or 404 once it sees nothing of the
        # program), or the last one (409).
        statuses = sorted(status for status, _ in results)
        assert statuses[0] == 204 and statuses[1] in (403, 404, 409), results
        assert StaffRole.objects.filter(program=program, role="manager").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_managers_removing_each_other_beside_a_third_remove_only_one():
    """Had they acted one after the other, the second would no longer have been a manager:
    the role of the one who revokes is checked again once the rows are locked."""
    world = build_world()
    for round_ in range(5):
        program = services.create_program(
            actor=world.operator, name=f"Race {round_}", currency="USD"
        )  # the operator stays its third manager
        second = _two_managers(world, program)
        rows = {r.user_id: r.pk for r in StaffRole.objects.filter(program=program)}
        path = f"/programs/{program.pk}/staff/"
        results = run_at_once(
            [
                delete(client_for(world.manager), f"{path}{rows[second.pk]}/"),
                delete(client_for(second), f"{path}{rows[world.manager.pk]}/"),
            ]
        )
        statuses = sorted(status for status, _ in results)
        assert statuses[0] == 204 and statuses[1] in (403, 404), results
        assert StaffRole.objects.filter(program=program, role="manager").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_revoking_one_role_at_once_from_several_managers_revokes_it_once():
    world = build_world()
    row = world.staff_row()
    path = f"/programs/{world.a.pk}/staff/{row.pk}/"
    callers = [world.manager, world.operator, world.manager, world.operator]
    results = run_at_once([delete(client_for(user), path) for user in callers])
    assert sorted(status for status, _ in results) == [204, 404, 404, 404], results
    assert not StaffRole.objects.filter(pk=row.pk).exists()
