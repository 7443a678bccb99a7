"""Login lockout (django-axes): the authentication backend, the client address it keys on, and
the second-factor code step counted as part of the login."""

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_lockout_response
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import JsonResponse
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check, for every authentication that arrives with a request.

    `authenticate()` without a request comes only from trusted code in the process (management
    commands, the test client's `login()`); Axes would raise there, so those pass through to the
    next backend unchecked. Every network login path passes the request and is counted.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind N trusted proxies the address they saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with
    N proxies the client is the N-th entry from the right; entries left of it are whatever the
    client sent and are ignored. With no proxies configured the header is never read.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.NUM_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote  # fewer hops than configured: do not trust the header at all
    return forwarded[-proxies]


def lockout_response(request, original_response=None, credentials=None):
    """The answer while a username + address is locked out: 429 with Retry-After.

    Under /api/ it is the API's problem+json shape (code "throttled"); elsewhere a plain page.
    """
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else None
    detail = "Too many failed logins. Try again later."
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "type": "about:blank",
                "title": "Too many failed logins",
                "status": 429,
                "detail": detail,
                "code": "throttled",
            },
            status=429,
            content_type="application/problem+json",
        )
    else:
        response = render(request, "429.html", {"minutes": (seconds or 0) // 60}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def refuse_code_step(request, username: str):
    """The lockout answer when `username` from this address is locked out, else None.

    The code step comes after a correct password, so the password check (the backend above) has
    been passed once; the code is checked against the same count, or a locked-out user could
    keep guessing codes.
    """
    credentials = {"username": username}
    if AxesProxyHandler.is_allowed(request, credentials):
        return None
    return get_lockout_response(request, None, credentials)


def count_failed_code(request, username: str) -> None:
    """A wrong second-factor code is a failed login: it counts toward the lockout, and the
    failure that reaches the limit turns this very response into the lockout answer (Axes'
    middleware reads the flag it sets on `request`)."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
