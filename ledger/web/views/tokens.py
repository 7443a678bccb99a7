"""API tokens: create (shown once), list and revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import tokens
from ledger import services

from .. import forms

_NEW_TOKEN_KEY = "new_api_token"  # noqa: S105 (a session key name, not a secret)


@login_required
def api_tokens(request):
    """List the user's API tokens and create one.

    Post/redirect/get, so a reload cannot create a second token: the new secret rides in the
    session to the next page view only, where it is shown once and dropped.
    """
    form = forms.TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = tokens.issue_token(user=request.user, name=form.cleaned_data["name"])
        request.session[_NEW_TOKEN_KEY] = {"id": token.pk, "secret": secret}
        return redirect("api_tokens")
    created = secret = None
    shown = request.session.pop(_NEW_TOKEN_KEY, None)
    if shown is not None:
        created = next((t for t in tokens.list_tokens(request.user) if t.pk == shown["id"]), None)
        secret = shown["secret"] if created else None
    response = render(
        request,
        "web/tokens.html",
        {
            "form": form if request.method == "POST" else forms.TokenForm(),
            "tokens": tokens.list_tokens(request.user),
            "created": created,
            "secret": secret,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request, pk):
    if not services.revoke_token(actor=request.user, token_id=pk):
        raise Http404("No such token.")
    messages.success(request, "Token revoked; it stopped working at once.")
    return redirect("api_tokens")


@login_required
@require_POST
def api_tokens_revoke_all(request):
    count = services.revoke_all_tokens(actor=request.user)
    messages.success(request, f"{count} token(s) revoked; they stopped working at once.")
    return redirect("api_tokens")
