"""Bench-only URLs: a trivial JSON view (the floor for the API benchmark), then the app's."""

from django.http import JsonResponse
from django.urls import include, path


def ping(request):
    """The cheapest Django response: what the framework and gunicorn cost by themselves."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/ping/", ping),
    path("", include("ledger.urls")),
]
