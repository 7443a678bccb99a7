from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class LedgerUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "email", "role", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = (*UserAdmin.fieldsets, ("Ledger", {"fields": ("display_name", "role")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Ledger", {"fields": ("display_name", "role")}))
