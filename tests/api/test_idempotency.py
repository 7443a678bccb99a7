"""Idempotency-Key: replay, conflicts, refusals that store nothing, and real concurrency."""

import threading

import pytest
from django.db import connection

from ledger.api.models import IdempotencyKey
from ledger.models import Payout
from tests.api.conftest import client_for, problem
from tests.conftest import accepted_work


def grant(artist, program, amount="5"):
    return {"artist": artist.pk, "program": program.pk, "amount": amount, "kind": "grant"}


@pytest.mark.django_db
def test_body_compared_as_json_values(admin_api, artist, program):
    first = admin_api.post(
        "/api/v1/payouts/",
        data=f'{{"artist": {artist.pk}, "program": {program.pk}, "amount": "5", "kind": "grant"}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert first.status_code == 201
    again = admin_api.post(
        "/api/v1/payouts/",
        data=(f'{{ "kind":"grant","amount":"5",  "program":{program.pk},"artist":{artist.pk} }}'),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Payout.objects.count() == 1


@pytest.mark.django_db
def test_other_path_with_same_key_is_a_conflict(admin_api, artist, program):
    admin_api.post("/api/v1/payouts/", grant(artist, program), "json", HTTP_IDEMPOTENCY_KEY="k")
    response = admin_api.post(
        "/api/v1/programs/", {"name": "x", "currency": "USD"}, "json", HTTP_IDEMPOTENCY_KEY="k"
    )
    problem(response, 422, "idempotency_conflict")


@pytest.mark.django_db
def test_refused_request_stores_nothing_and_key_can_be_retried(admin_api, admin, artist, program):
    accepted_work(program, artist, admin, hours="1.00")  # 45.00 outstanding
    body = {"artist": artist.pk, "program": program.pk, "amount": "50", "kind": "settlement"}
    problem(
        admin_api.post("/api/v1/payouts/", body, "json", HTTP_IDEMPOTENCY_KEY="pay-1"),
        409,
        "insufficient_balance",
    )
    problem(
        admin_api.post(
            "/api/v1/payouts/", {**body, "amount": "x"}, "json", HTTP_IDEMPOTENCY_KEY="pay-1"
        ),
        400,
    )
    assert not IdempotencyKey.objects.exists()
    fixed = admin_api.post(
        "/api/v1/payouts/", {**body, "amount": "45"}, "json", HTTP_IDEMPOTENCY_KEY="pay-1"
    )
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert IdempotencyKey.objects.get().status_code == 201


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller(admin, admin2, artist, program):
    for user in (admin, admin2):
        response = client_for(user).post(
            "/api/v1/payouts/", grant(artist, program), "json", HTTP_IDEMPOTENCY_KEY="shared"
        )
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response
    assert Payout.objects.count() == 2


@pytest.mark.django_db
def test_key_length(admin_api, artist, program):
    response = admin_api.post(
        "/api/v1/payouts/", grant(artist, program), "json", HTTP_IDEMPOTENCY_KEY="k" * 256
    )
    problem(response, 400, "validation_error")
    response = admin_api.post(
        "/api/v1/payouts/", grant(artist, program), "json", HTTP_IDEMPOTENCY_KEY="k" * 255
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_actions_replay_too(admin_api, artist, program):
    from tests.conftest import log_feedback

    work = log_feedback(program, artist)
    url = f"/api/v1/contributions/{work.pk}/accept/"
    first = admin_api.post(url, {}, "json", HTTP_IDEMPOTENCY_KEY="acc")
    again = admin_api.post(url, {}, "json", HTTP_IDEMPOTENCY_KEY="acc")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    # Without the key, the repeat is a real second attempt: a 409.
    problem(admin_api.post(url, {}, "json"), 409, "invalid_transition")


def test_every_post_handler_is_idempotent():
    """Every authenticated POST route goes through @idempotent (token creation is anonymous)."""
    from tests.api.test_authorization_matrix import api_handlers

    posts = [(n, h) for n, m, h in api_handlers() if m == "POST" and n != "token-list"]
    assert len(posts) >= 11
    for name, handler in posts:
        assert getattr(handler, "idempotent", False), name


def _run_threads(n, target):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_of_one_key_do_the_work_once(admin, artist, program):
    clients = [client_for(admin) for _ in range(8)]
    body = grant(artist, program, "7")

    def post(i):
        response = clients[i].post("/api/v1/payouts/", body, "json", HTTP_IDEMPOTENCY_KEY="race")
        return response.status_code, response.get("Idempotent-Replayed"), response.json()

    results = _run_threads(8, post)
    assert Payout.objects.count() == 1
    ok = [r for r in results if r[0] == 201]
    assert all(r[0] in (201, 409) for r in results), results
    assert sum(1 for r in ok if r[1] is None) == 1  # exactly one did the work
    assert all(r[2]["id"] == ok[0][2]["id"] for r in ok)  # the others replayed it
    for status, _, body_ in results:
        if status == 409:
            assert body_["code"] == "idempotency_in_progress"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_full_balance_settlements_only_one_succeeds(admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # 90.00 outstanding
    clients = [client_for(admin) for _ in range(8)]
    body = {"artist": artist.pk, "program": program.pk, "amount": "90", "kind": "settlement"}

    def post(i):
        response = clients[i].post(
            "/api/v1/payouts/", body, "json", HTTP_IDEMPOTENCY_KEY=f"settle-{i}"
        )
        return response.status_code, response.json()

    results = _run_threads(8, post)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 7, results
    assert {b["code"] for s, b in results if s == 409} == {"insufficient_balance"}
    assert Payout.objects.filter(kind="settlement").count() == 1
    assert IdempotencyKey.objects.count() == 1  # refused requests stored nothing
    verify = client_for(admin).get(f"/api/v1/ledger/verify/?program={program.pk}").json()
    assert verify["ok"] is True


@pytest.mark.django_db
def test_expired_keys_are_forgotten_and_purged(admin_api, admin, artist, program, settings):
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    admin_api.post("/api/v1/payouts/", grant(artist, program), "json", HTTP_IDEMPOTENCY_KEY="old")
    # Within the retention a repeat replays; past it, the key is free again.
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=47))
    again = admin_api.post(
        "/api/v1/payouts/", grant(artist, program), "json", HTTP_IDEMPOTENCY_KEY="old"
    )
    assert again["Idempotent-Replayed"] == "true"
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=49))
    fresh = admin_api.post(
        "/api/v1/payouts/", grant(artist, program, "6"), "json", HTTP_IDEMPOTENCY_KEY="old"
    )
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh
    assert Payout.objects.count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=49))
    call_command("purge_idempotency_keys")
    assert not IdempotencyKey.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_repeat_while_first_is_running_is_409_in_progress(admin, artist, program):
    from django.db import transaction

    claimed, release = threading.Event(), threading.Event()

    def first_request_still_running():
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(user=admin, key="busy", fingerprint="x" * 64)
                claimed.set()
                release.wait(30)
                raise RuntimeError("roll back: the first request fails after all")
        except RuntimeError:
            pass
        finally:
            connection.close()

    holder = threading.Thread(target=first_request_still_running)
    holder.start()
    try:
        assert claimed.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        api = client_for(admin)
        response = api.post(
            "/api/v1/payouts/", grant(artist, program), "json", HTTP_IDEMPOTENCY_KEY="busy"
        )
        problem(response, 409, "idempotency_in_progress")
        assert not Payout.objects.exists()
    finally:
        release.set()
        holder.join(30)
    # The first one rolled back: its key was never stored, so the repeat now does the work.
    response = api.post(
        "/api/v1/payouts/", grant(artist, program), "json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
