"""The outbox and the schedule in the Django admin: read-only, for operators to see what
waits, what failed and why (a message's body, which may hold a single-use link, is not shown)."""

from django.contrib import admin

from ledger.admin import ReadOnlyAdmin

from .models import OutboundMail, ScheduledRun


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "subject", "status", "attempts", "next_attempt_at"]
    list_filter = ["status"]
    search_fields = ["recipient", "subject"]
    exclude = ["body"]


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdmin):
    list_display = ["job", "slot", "claimed_at", "claimed_by"]
    list_filter = ["job"]
