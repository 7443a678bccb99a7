from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, User


@admin.register(User)
class LedgerUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "email", "role", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = (*UserAdmin.fieldsets, ("Ledger", {"fields": ("display_name", "role")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Ledger", {"fields": ("display_name", "role")}))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be seen and revoked here; their secrets are never stored, so never shown."""

    list_display = ("user", "name", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    readonly_fields = ("user", "name", "key_hash", "created_at", "expires_at", "last_used_at")
    fields = (*readonly_fields, "revoked")

    def has_add_permission(self, request):
        return False
