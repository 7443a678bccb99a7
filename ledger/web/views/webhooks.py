"""A program's webhooks: its staff read the subscriptions and every delivery attempt; a
manager subscribes a receiver (its secret shown once), removes one (after a confirmation) and
sends a delivery again."""

import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ledger import access, services
from ledger.errors import DomainError, ValidationFailed
from ledger.webhooks.models import WebhookDelivery, WebhookSubscription

from .. import forms
from .common import show_domain_error, staff_program

DELIVERIES_SHOWN = 50
_SHOWN_ONCE_KEY = "new_webhook"


@login_required
def program_webhooks(request, pk):
    """The subscriptions, and a manager's form to add one.

    Post/redirect/get, so a reload cannot subscribe twice: the new secret rides in the session
    to the next page view only, where it is shown once and dropped (as a new API token's)."""
    program = staff_program(request, pk)
    manage_refused = access.refusal(request.user, access.Action.MANAGE, program.pk)
    form = None
    if manage_refused is None:
        form = forms.WebhookForm(request.POST or None)
    elif request.method == "POST":
        messages.error(request, manage_refused.message)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            created = services.create_subscription(
                actor=request.user, program=program, **form.cleaned_data
            )
        except ValidationFailed as error:
            forms.apply_domain_error(form, error)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            request.session[_SHOWN_ONCE_KEY] = {"id": created.pk, "secret": created.secret}
            return redirect("program_webhooks", pk=program.pk)
    subscriptions = list(WebhookSubscription.objects.filter(program=program).order_by("id"))
    created = secret = None
    shown = request.session.pop(_SHOWN_ONCE_KEY, None)
    if shown is not None:
        created = next((s for s in subscriptions if s.pk == shown["id"]), None)
        secret = shown["secret"] if created else None
    response = render(
        request,
        "web/webhooks.html",
        {
            "program": program,
            "subscriptions": subscriptions,
            "form": form,
            "manage_refused": manage_refused,
            "created": created,
            "secret": secret,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def _subscription(request, pk, webhook_id):
    program = staff_program(request, pk)
    subscription = get_object_or_404(WebhookSubscription, pk=webhook_id, program=program)
    return program, subscription


@login_required
def webhook_detail(request, pk, webhook_id):
    """One subscription's deliveries, newest first, each with every attempt."""
    program, subscription = _subscription(request, pk, webhook_id)
    deliveries = list(
        WebhookDelivery.objects.filter(subscription=subscription)
        .order_by("-id")
        .prefetch_related("attempt_log")[:DELIVERIES_SHOWN]
    )
    return render(
        request,
        "web/webhook_detail.html",
        {
            "program": program,
            "subscription": subscription,
            "deliveries": deliveries,
            "shown": DELIVERIES_SHOWN,
            "manage_refused": access.refusal(request.user, access.Action.MANAGE, program.pk),
        },
    )


@login_required
def webhook_remove(request, pk, webhook_id):
    """Remove a subscription, after the manager confirms it."""
    program, subscription = _subscription(request, pk, webhook_id)
    refused = access.refusal(request.user, access.Action.MANAGE, program.pk)
    if request.method == "POST":
        if refused is not None:
            messages.error(request, refused.message)
        else:
            # Removed meanwhile (another manager, or this one's second click): as asked.
            with contextlib.suppress(WebhookSubscription.DoesNotExist):
                services.delete_subscription(actor=request.user, subscription=subscription)
            messages.success(request, f"Removed the webhook to {subscription.url}.")
            return redirect("program_webhooks", pk=program.pk)
    return render(
        request,
        "web/webhook_remove.html",
        {"program": program, "subscription": subscription, "refused": refused},
    )


@login_required
@require_POST
def webhook_redeliver(request, pk, webhook_id, delivery_id):
    """Send a delivery again now (same webhook-id, same body)."""
    program, subscription = _subscription(request, pk, webhook_id)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, subscription=subscription)
    delivery.subscription = subscription
    try:
        services.redeliver(actor=request.user, delivery=delivery)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"{delivery.event_type} {delivery.webhook_id} will be sent again."
        )
    return redirect("webhook_detail", pk=program.pk, webhook_id=subscription.pk)
