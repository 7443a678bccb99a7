"""A program's webhooks pages: a manager adds a receiver (its secret shown once), reads every
attempt, redelivers and removes; other staff read only; artists see nothing of it."""

import pytest

from ledger import services
from ledger.models import AuditEvent
from ledger.webhooks.delivery import deliver_subscription
from ledger.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import log_feedback
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_a_manager_adds_a_receiver_and_sees_its_secret_once(signed_in, admin, program, insecure):
    client = signed_in(admin)
    page = client.get(f"/programs/{program.pk}/")
    assert f'href="/programs/{program.pk}/webhooks/"' in page.content.decode()
    response = client.post(
        f"/programs/{program.pk}/webhooks/",
        {"url": "http://127.0.0.1:9/in", "events": ["payout.paid", "dispute.opened"]},
    )
    assert response.status_code == 302  # a reload cannot subscribe twice
    response = client.get(response.url)
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    subscription = WebhookSubscription.objects.get()
    assert subscription.events == ["payout.paid", "dispute.opened"]
    assert f'id="new-secret" value="{subscription.secret}"' in html
    again = client.get(f"/programs/{program.pk}/webhooks/").content.decode()
    assert "http://127.0.0.1:9/in" in again and subscription.secret not in again


def test_refusals_show_beside_their_fields(signed_in, admin, program, settings):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = False
    client = signed_in(admin)
    response = client.post(
        f"/programs/{program.pk}/webhooks/", {"url": "https://127.0.0.1/in", "events": []}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["events"] == ["Choose at least one event."]
    response = client.post(
        f"/programs/{program.pk}/webhooks/",
        {"url": "https://127.0.0.1/in", "events": ["payout.paid"]},
    )
    assert "loopback" in response.context["form"].errors["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_log_shows_every_attempt_and_redelivers(
    signed_in, admin, artist, program, insecure, receiver
):
    subscription = services.create_subscription(
        actor=admin, program=program, url=receiver.url, events=["contribution.submitted"]
    )
    receiver.status = 503
    log_feedback(program, artist)
    deliver_subscription(subscription.pk)
    delivery = WebhookDelivery.objects.get()
    client = signed_in(admin)
    html = client.get(f"/programs/{program.pk}/webhooks/{subscription.pk}/").content.decode()
    assert delivery.webhook_id in html and "HTTP 503" in html and ">503<" in html
    assert "Redeliver" in html
    response = client.post(
        f"/programs/{program.pk}/webhooks/{subscription.pk}/deliveries/{delivery.pk}/redeliver/"
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="webhook.redeliver").count() == 1
    assert (
        client.get(
            f"/programs/{program.pk}/webhooks/{subscription.pk}/deliveries/{delivery.pk}/redeliver/"
        ).status_code
        == 405
    )


def test_other_staff_read_only_and_artists_see_nothing(signed_in, admin, artist, program):
    subscription = services.create_subscription(
        actor=admin, program=program, url="https://93.184.215.14/in", events=["payout.paid"]
    )
    auditor = UserFactory()
    services.grant_role(actor=admin, program=program, user=auditor, role="auditor")
    client = signed_in(auditor)
    html = client.get(f"/programs/{program.pk}/webhooks/").content.decode()
    assert "https://93.184.215.14/in" in html and 'name="url"' not in html
    assert "Only a manager" in html
    detail = client.get(f"/programs/{program.pk}/webhooks/{subscription.pk}/").content.decode()
    assert "Redeliver" not in detail
    remove = f"/programs/{program.pk}/webhooks/{subscription.pk}/remove/"
    client.post(remove)
    assert WebhookSubscription.objects.exists()
    client = signed_in(artist)
    assert client.get(f"/programs/{program.pk}/webhooks/").status_code == 403
    assert client.get(f"/programs/{program.pk}/webhooks/{subscription.pk}/").status_code == 403


def test_a_manager_removes_after_confirming(signed_in, admin, program):
    subscription = services.create_subscription(
        actor=admin, program=program, url="https://93.184.215.14/in", events=["payout.paid"]
    )
    client = signed_in(admin)
    remove = f"/programs/{program.pk}/webhooks/{subscription.pk}/remove/"
    assert "Remove the webhook" in client.get(remove).content.decode()
    assert WebhookSubscription.objects.exists()
    response = client.post(remove)
    assert response.status_code == 302 and not WebhookSubscription.objects.exists()
    assert client.get(remove).status_code == 404


def test_operators_read_webhooks_in_the_admin_without_the_secret(client, admin, artist, program):
    subscription = services.create_subscription(
        actor=admin, program=program, url="https://93.184.215.14/in", events=["payout.paid"]
    )
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
    )
    delivery = WebhookDelivery.objects.get()
    admin.is_staff = True  # the admin site's own gate
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)
    for path in (
        "/admin/webhooks/webhooksubscription/",
        f"/admin/webhooks/webhooksubscription/{subscription.pk}/change/",
        "/admin/webhooks/webhookdelivery/",
        f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert subscription.secret not in response.content.decode()
    assert client.get("/admin/webhooks/webhooksubscription/add/").status_code == 403
