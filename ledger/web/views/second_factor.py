"""The second factor on the pages: signing in with a code after the password, and a person's
own enrolment (QR code, recovery codes shown once, turning it off, new recovery codes)."""

import time

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import lockout, second_factor
from accounts.models import User
from ledger import services
from ledger.errors import DomainError

from .. import forms
from .common import next_url

# Session keys. Between the password and the code the session holds who passed the password
# (not signed in yet); during enrolment the new secret; after it the recovery codes, once.
_PENDING = "second_factor_pending"
_ENROL_SECRET = "second_factor_enrol_secret"  # noqa: S105 (a session key name, not a secret)
_NEW_CODES = "second_factor_new_codes"
PENDING_SECONDS = 300  # the code step must follow the password within this time

_WRONG_CODE = (
    "That code is not valid. Codes change every 30 seconds; after several wrong ones, wait a "
    "few seconds before the next."
)


class SignInView(auth_views.LoginView):
    """Django's sign-in page, with a second step for whoever has enrolled a second factor: the
    right password alone does not sign them in, it leads to the code step (`login_code`)."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not second_factor.is_enrolled(user):
            return super().form_valid(form)
        return begin_code_step(self.request, user, self.get_success_url())


def begin_code_step(request, user, goto: str):
    """After a right password, for someone who has enrolled: remember who passed it (not
    signed in yet) and send them to the code step, then on to `goto`. Every page that signs
    someone in with a password goes through here, so none skips the second factor."""
    request.session[_PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "next": goto,
        "at": int(time.time()),
    }
    return redirect("login_code")


def _pending(request):
    """(user, where to go after) of a password passed in this session moments ago, or None."""
    pending = request.session.get(_PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(_PENDING, None)
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None:
        return None
    return user, pending


@never_cache
def login_code(request):
    """The code step: a code from the authenticator app, or a recovery code (used up), after
    the password; or for a signed-in session that must verify before staff pages.

    Wrong codes count toward the same lockout as wrong passwords, per username and address.
    """
    pending = None
    if request.user.is_authenticated:
        user = request.user
        goto = next_url(request, reverse("home"))
        if user.is_verified() or not second_factor.is_enrolled(user):
            return redirect(goto)
    else:
        found = _pending(request)
        if found is None:
            messages.info(request, "Sign in with your password first.")
            return redirect("login")
        user, pending = found
        goto = pending["next"]
    username = user.get_username()
    refused = lockout.refuse_code_step(request, username)
    if refused is not None:
        return refused
    form = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            if pending is not None:
                request.session.pop(_PENDING, None)
                user.otp_device = device  # django-otp marks the new session verified
                auth_login(request, user, backend=pending["backend"])
            else:
                otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = second_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Make new ones on the "
                    "two-factor page if you are running low.",
                )
            return redirect(goto)
        lockout.count_failed_code(request, username)
        form.add_error("code", _WRONG_CODE)
    return render(
        request,
        "registration/login_code.html",
        {"form": form, "next": goto if pending is None else "", "signed_in": pending is None},
    )


def _status_context(request, **extra):
    user = request.user
    device = second_factor.totp_device(user)
    return {
        "device": device,
        "left": second_factor.recovery_codes_left(user) if device else 0,
        "required": second_factor.required(user),
        "disable_form": forms.CodeForm(prefix="disable"),
    } | extra


def _no_store(response):
    response["Cache-Control"] = "no-store"  # secrets and recovery codes: no cache keeps a copy
    return response


@login_required
def two_factor(request):
    """Whether the second factor is on, and what can be done about it. Recovery codes just made
    ride in the session to this page view only, where they are shown once and dropped."""
    context = _status_context(request)
    shown = request.session.pop(_NEW_CODES, None)
    if context["device"] is not None and isinstance(shown, dict):
        context["codes"] = shown.get("codes")
        context["next"] = shown.get("next") or reverse("home")
    return _no_store(render(request, "web/two_factor.html", context))


@login_required
def two_factor_enrol(request):
    """Set up an authenticator app: its QR code and the same secret as text, then its first code
    confirms it. The secret waits in the session until then; reloading shows the same one."""
    if second_factor.is_enrolled(request.user):
        messages.info(request, "Your second factor is already on.")
        return redirect("two_factor")
    secret = request.session.get(_ENROL_SECRET)
    if not second_factor.is_secret(secret):
        secret = request.session[_ENROL_SECRET] = second_factor.new_secret()
    form = forms.EnrolCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.enable_second_factor(
                actor=request.user, key=secret, code=form.cleaned_data["code"]
            )
        except DomainError as error:
            forms.apply_domain_error(form, error, default_field="code")
        else:
            request.session.pop(_ENROL_SECRET, None)
            otp_login(request, device)  # the code just proved it: this session is verified
            request.session[_NEW_CODES] = {"codes": codes, "next": next_url(request, "")}
            messages.success(request, "Your second factor is on.")
            return redirect("two_factor")
    uri = second_factor.provisioning_uri(request.user, secret)
    context = {
        "form": form,
        "qr": second_factor.qr_code(uri),
        "secret": second_factor.secret_for_people(secret),
        "required": second_factor.required(request.user),
        "next": next_url(request, ""),
    }
    return _no_store(render(request, "web/two_factor_enrol.html", context))


@login_required
@require_POST
def two_factor_disable(request):
    """Turn the second factor off, with a current code. Wrong codes count toward the lockout,
    as at sign-in: a session alone must not be enough to guess its way to turning it off."""
    username = request.user.get_username()
    refused = lockout.refuse_code_step(request, username)
    if refused is not None:
        return refused
    form = forms.CodeForm(request.POST, prefix="disable")
    if form.is_valid():
        try:
            services.disable_second_factor(actor=request.user, code=form.cleaned_data["code"])
        except DomainError as error:
            if getattr(error, "field", None) == "code":
                lockout.count_failed_code(request, username)
            forms.apply_domain_error(form, error, default_field="code")
        else:
            messages.success(request, "Your second factor is off.")
            return redirect("two_factor")
    context = _status_context(request, disable_form=form)
    return _no_store(render(request, "web/two_factor.html", context))


@login_required
@require_POST
def two_factor_recovery(request):
    """New recovery codes (the old ones stop working), shown once on the two-factor page. Only
    from a session that passed a code: an older one (signed in before the factor was set up)
    must not be able to mint codes that stand in for the phone."""
    if second_factor.is_enrolled(request.user) and not request.user.is_verified():
        return redirect(f"{reverse('login_code')}?next={reverse('two_factor')}")
    try:
        codes = services.regenerate_recovery_codes(actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        request.session[_NEW_CODES] = {"codes": codes, "next": ""}
        messages.success(request, "New recovery codes made; the old ones no longer work.")
    return redirect("two_factor")
