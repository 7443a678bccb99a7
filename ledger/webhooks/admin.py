"""Webhooks in the Django admin: read-only, for operators to see what waits, what failed and
why. The signing secret is never shown (the pages and the API never show it either)."""

from django.contrib import admin

from ledger.admin import ReadOnly, ReadOnlyAdmin

from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["id", "program", "url", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    exclude = ["secret"]


class WebhookAttemptInline(ReadOnly, admin.TabularInline):
    model = WebhookAttempt
    extra = 0


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subscription", "event_type", "webhook_id", "status", "attempts"]
    list_filter = ["status", "event_type"]
    search_fields = ["webhook_id"]
    inlines = [WebhookAttemptInline]
