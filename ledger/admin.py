"""Django admin for operations. Journal rows are read-only; money moves only via services."""

from django.contrib import admin, messages

from ledger import services
from ledger.errors import DomainError
from ledger.models import (
    Account,
    AccountBalance,
    AuditEvent,
    Contribution,
    Dispute,
    Entry,
    Membership,
    Payout,
    Posting,
    Program,
    RateCard,
)


class ReadOnly:
    """Viewable, never editable: rows written by the services only. For model admins and
    inlines alike (`ReadOnlyAdmin`, `PostingInline`)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin):
    list_display = ("name", "currency", "public", "status", "created_at")
    list_filter = ("public", "status", "currency")
    search_fields = ("name",)


@admin.register(RateCard)
class RateCardAdmin(ReadOnlyAdmin):
    list_display = ("program", "effective_from", "hourly_rate_minor")
    list_filter = ("program",)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("program", "artist", "valued_minor", "grants_minor", "settlements_minor")
    list_filter = ("program",)
    list_select_related = ("program", "artist")


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdmin):
    list_display = ("title", "program", "artist", "kind", "status", "value_minor", "occurred_on")
    list_filter = ("status", "kind", "program")
    list_select_related = ("program", "artist")
    search_fields = ("title", "artist__username")
    actions = ["accept_selected"]

    @admin.action(description="Accept selected submitted contributions (as me), all or none")
    def accept_selected(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        try:
            accepted = services.accept_contributions(ids=ids, actor=request.user)
        except DomainError as error:
            self.message_user(request, f"{error.message} Nothing was accepted.", messages.ERROR)
        else:
            self.message_user(request, f"Accepted {len(accepted)} contribution(s).")


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("id", "program", "artist", "kind", "amount_minor", "paid_on", "status")
    list_filter = ("status", "kind", "program")
    list_select_related = ("program", "artist")


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("id", "program", "artist", "subject_type", "claim", "status", "opened_at")
    list_filter = ("status", "claim", "program")
    list_select_related = ("program", "artist")


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "program", "kind", "artist", "currency")
    list_filter = ("kind", "program")


@admin.register(AccountBalance)
class AccountBalanceAdmin(ReadOnlyAdmin):
    list_display = ("account", "balance_minor", "version", "updated_at")


class PostingInline(ReadOnly, admin.TabularInline):
    model = Posting
    can_delete = False
    extra = 0
    readonly_fields = ("account", "amount_minor", "currency")


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("program", "seq", "kind", "effective_date", "memo", "hash")
    list_filter = ("kind", "program")
    inlines = [PostingInline]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action",)
