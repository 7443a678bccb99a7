from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError

from ledger import services

from . import second_factor
from .models import ApiToken, User


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's own sign-in has no code step: whoever has a second factor signs in on the
    site's sign-in page (password, then code) and opens the admin from there."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if second_factor.is_enrolled(user):
            raise ValidationError(
                "This account signs in with a second factor: sign in on the site's sign-in "
                "page (/login/), then open the admin.",
                code="second_factor",
            )


admin.site.login_form = AdminLoginForm


@admin.register(User)
class LedgerUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "email", "is_superuser", "is_active")
    list_filter = ("is_active", "is_superuser")
    fieldsets = (*UserAdmin.fieldsets, ("Ledger", {"fields": ("display_name",)}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Ledger", {"fields": ("display_name",)}))

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new login is created by the service, with its audit row, as from the API; the
        # add form has already hashed the password (or marked it unusable) on `obj`.
        created = services.create_user(
            actor=request.user,
            username=obj.username,
            email=obj.email,
            display_name=obj.display_name,
            password_hash=obj.password,
            is_staff=obj.is_staff,
            is_superuser=obj.is_superuser,
        )
        obj.pk, obj.display_name = created.pk, created.display_name
        obj._state.adding, obj._state.db = False, created._state.db


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be seen and revoked here; their secrets are never stored, so never shown."""

    list_display = ("user", "name", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    readonly_fields = (
        "user",
        "name",
        "key_hash",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked",
    )
    fields = readonly_fields
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke_selected(self, request, queryset):
        # Through the service, one audit row per token; already revoked ones are skipped.
        done = sum(
            services.revoke_token(actor=request.user, token_id=token.pk, owner=token.user)
            for token in queryset.select_related("user")
        )
        self.message_user(request, f"Revoked {done} token(s).", messages.SUCCESS)
