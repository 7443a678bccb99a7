"""The webhooks API (docs/API.md, "Webhooks"): the secret shown once and kept encrypted,
events and URLs checked (400 naming the field), deliveries with every attempt, redelivery,
audit rows. Who may call what is in tests/api/test_authorization_matrix.py."""

import base64

import pytest
from django.db import connection

from ledger import services
from ledger.models import AuditEvent
from ledger.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.api.conftest import client_for, fields_of, problem
from tests.conftest import log_feedback

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks"  # a public address literal: no DNS, never contacted


def url(program, *rest):
    return "/api/v1/programs/{}/webhooks/{}".format(
        program.pk, "".join(f"{part}/" for part in rest)
    )


def test_create_shows_the_secret_once_and_keeps_it_encrypted(admin_api, admin, program):
    created = admin_api.post(
        url(program),
        {
            "url": PUBLIC_URL,
            "events": ["payout.paid", "contribution.accepted"],
            "description": "CI",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body.pop("secret")
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert body == {
        "id": body["id"],
        "program": program.pk,
        "url": PUBLIC_URL,
        "events": ["contribution.accepted", "payout.paid"],  # the contract's order
        "description": "CI",
        "active": True,
        "created_at": body["created_at"],
    }
    listed = admin_api.get(url(program)).json()
    assert listed == {"results": [body], "next": None, "previous": None}  # paginated, as lists are
    assert admin_api.get(url(program, body["id"])).json() == body
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhooksubscription")
        (stored,) = cursor.fetchone()
    assert secret not in stored and "whsec_" not in stored
    assert WebhookSubscription.objects.get().secret == secret
    audit = AuditEvent.objects.get(action="webhook.create")
    assert audit.actor == admin and "whsec_" not in str(audit.data)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": PUBLIC_URL, "events": []}, "events"),
        ({"url": PUBLIC_URL}, "events"),
        ({"url": PUBLIC_URL, "events": ["payout.created"]}, "events"),
        ({"url": PUBLIC_URL, "events": "payout.paid"}, "events"),
        ({"url": PUBLIC_URL, "events": [7]}, "events"),
        ({"url": "http://93.184.215.14/hooks", "events": ["payout.paid"]}, "url"),
        ({"url": "https://127.0.0.1/hooks", "events": ["payout.paid"]}, "url"),
        ({"url": "https://169.254.169.254/latest", "events": ["payout.paid"]}, "url"),
        ({"url": "https://u:p@93.184.215.14/", "events": ["payout.paid"]}, "url"),
        ({"url": "", "events": ["payout.paid"]}, "url"),
        ({"events": ["payout.paid"]}, "url"),
        ({"url": PUBLIC_URL, "events": ["payout.paid"], "description": "x" * 201}, "description"),
    ],
)
def test_bad_subscriptions_are_400_naming_the_field(admin_api, program, body, field):
    answer = problem(admin_api.post(url(program), body, format="json"), 400, "validation_error")
    assert fields_of(answer) == {field}
    assert not WebhookSubscription.objects.exists()


def test_deliveries_list_and_detail_with_every_attempt(
    admin_api, admin, artist, program, settings, receiver
):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = True
    subscription = services.create_subscription(
        actor=admin, program=program, url=receiver.url, events=["contribution.submitted"]
    )
    receiver.status = 500
    log_feedback(program, artist)
    from ledger.webhooks.delivery import deliver_subscription

    deliver_subscription(subscription.pk)
    (delivery,) = WebhookDelivery.objects.all()
    listed = admin_api.get(url(program, subscription.pk, "deliveries")).json()
    assert listed["results"] == [
        {
            "id": delivery.pk,
            "event_type": "contribution.submitted",
            "webhook_id": delivery.webhook_id,
            "status": "pending",
            "attempts": 1,
            "last_status_code": 500,
            "last_attempt_at": listed["results"][0]["last_attempt_at"],
            "next_attempt_at": listed["results"][0]["next_attempt_at"],
            "created_at": listed["results"][0]["created_at"],
        }
    ]
    assert listed["results"][0]["next_attempt_at"] > listed["results"][0]["last_attempt_at"]
    detail = admin_api.get(url(program, subscription.pk, "deliveries", delivery.pk)).json()
    assert detail["body"] == delivery.body
    (attempt,) = detail["attempts_log"]
    assert (attempt["status_code"], attempt["error"]) == (500, "HTTP 500")
    assert attempt["duration_ms"] >= 0 and attempt["at"].endswith("Z")

    receiver.status = 200
    redelivered = admin_api.post(
        url(program, subscription.pk, "deliveries", delivery.pk, "redeliver")
    )
    assert redelivered.status_code == 202, redelivered.content
    assert redelivered.json()["webhook_id"] == delivery.webhook_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)  # sent after commit
    assert AuditEvent.objects.filter(action="webhook.redeliver").count() == 1


def test_objects_of_another_subscription_or_program_are_404(admin_api, admin, artist, program):
    from tests.conftest import make_program

    other = make_program(admin)
    theirs = services.create_subscription(
        actor=admin, program=other, url=PUBLIC_URL, events=["contribution.submitted"]
    )
    mine = services.create_subscription(
        actor=admin, program=program, url=PUBLIC_URL, events=["contribution.submitted"]
    )
    log_feedback(program, artist)
    delivery = mine.deliveries.get()
    for path in (
        url(program, theirs.pk),
        url(program, theirs.pk, "deliveries"),
        url(program, theirs.pk, "deliveries", delivery.pk),
        url(other, mine.pk, "deliveries", delivery.pk),
    ):
        problem(admin_api.get(path), 404, "not_found")
    problem(
        admin_api.post(url(other, mine.pk, "deliveries", delivery.pk, "redeliver")),
        404,
        "not_found",
    )


def test_delete_removes_the_subscription_and_its_log(admin_api, admin, artist, program):
    subscription = services.create_subscription(
        actor=admin, program=program, url=PUBLIC_URL, events=["contribution.submitted"]
    )
    log_feedback(program, artist)
    assert admin_api.delete(url(program, subscription.pk)).status_code == 204
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.delete").count() == 1
    problem(admin_api.delete(url(program, subscription.pk)), 404, "not_found")


def test_an_auditor_reads_but_may_not_write(admin, program):
    from tests.factories import UserFactory

    auditor = UserFactory()
    services.grant_role(actor=admin, program=program, user=auditor, role="auditor")
    subscription = services.create_subscription(
        actor=admin, program=program, url=PUBLIC_URL, events=["payout.paid"]
    )
    api = client_for(auditor)
    assert api.get(url(program)).status_code == 200
    assert "secret" not in api.get(url(program, subscription.pk)).json()
    body = {"url": PUBLIC_URL, "events": ["payout.paid"]}
    problem(api.post(url(program), body, format="json"), 403, "permission_denied")
    problem(api.delete(url(program, subscription.pk)), 403, "permission_denied")
