"""Password reset ("forgot password"): Django's own views, our templates, mail through
`ledger.mail`, and a per-address limit on requests."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse_lazy

from accounts.lockout import client_ip
from ledger import ratelimit

from .. import forms

WINDOW = 3600  # seconds: the limits are per hour


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email. The answer is the same page whether or not the address
    has a login (Django's behaviour); a client asking too often gets a 429 page."""

    form_class = forms.PasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "mail/password_reset.txt"
    success_url = reverse_lazy("password_reset_done")

    def post(self, request, *args, **kwargs):
        limit = settings.LEDGER_PASSWORD_RESETS_PER_HOUR
        allowed, wait = ratelimit.hit(
            "password-reset-from", client_ip(request) or "", limit, WINDOW
        )
        if not allowed:
            response = render(request, "web/password_reset_throttled.html", status=429)
            response["Retry-After"] = str(int(wait))  # whole seconds
            return response
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from the emailed link (Django's checks of the link). Saving it
    revokes the user's API tokens (`User.save`)."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
