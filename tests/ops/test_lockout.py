"""Brute force: django-axes locks a username + client address out after too many failures."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import authenticate
from django.contrib.auth.views import LoginView
from django.test import Client, RequestFactory, override_settings
from django.urls import path

from accounts.lockout import client_ip
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"

# A bare login page (the real one is the web pages'), rendered with the admin's template.
urlpatterns = [
    path("login/", LoginView.as_view(template_name="admin/login.html"), name="login"),
    path("admin/", admin.site.urls),
    path("api/v1/login/", LoginView.as_view(template_name="admin/login.html")),
]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_test_urls")]


@pytest.fixture
def _test_urls():
    fast_hash = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests only: dozens of logins
    with override_settings(ROOT_URLCONF=__name__, AXES_FAILURE_LIMIT=5, PASSWORD_HASHERS=fast_hash):
        yield


@pytest.fixture
def victim():
    user = UserFactory(username="victim")
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(client, password, **headers):
    return client.post(
        "/login/", {"username": "victim", "password": password, "next": "/done/"}, headers=headers
    )


def logged_in(response):
    return response.status_code == 302 and response["Location"] == "/done/"


def test_settings_lock_on_username_and_address():
    assert "axes" in settings.INSTALLED_APPS
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_correct_password_logs_in(victim):
    assert logged_in(attempt(Client(REMOTE_ADDR="203.0.113.5"), PASSWORD))


def test_failures_lock_out_even_the_right_password(victim):
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = attempt(client, "wrong")
        assert response.status_code == 200  # the form again, with an error
    assert attempt(client, "wrong").status_code == 429  # the limit-th failure locks
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert response["Retry-After"] == str(15 * 60)
    assert "Too many failed logins" in response.text and "15 minutes" in response.text
    # A forged X-Forwarded-For is not the client address (no trusted proxies): still locked.
    for forged in ("198.51.100.1", "10.0.0.1, 198.51.100.2"):
        assert attempt(client, PASSWORD, x_forwarded_for=forged).status_code == 429
    assert AccessAttempt.objects.get(username="victim").ip_address == "203.0.113.5"
    # The lock is on this username from this address: the owner elsewhere still gets in.
    assert logged_in(attempt(Client(REMOTE_ADDR="192.0.2.44"), PASSWORD))


@override_settings(NUM_PROXIES=1)
def test_behind_a_proxy_the_client_cannot_forge_its_way_out(victim):
    proxy = Client(REMOTE_ADDR="10.0.0.2")  # every request arrives from the proxy
    for i in range(settings.AXES_FAILURE_LIMIT):
        # The attacker prepends a different address every time; the proxy appends the real one.
        attempt(proxy, "wrong", x_forwarded_for=f"192.0.2.{i}, 203.0.113.9")
    assert attempt(proxy, PASSWORD, x_forwarded_for="192.0.2.200, 203.0.113.9").status_code == 429
    assert attempt(proxy, PASSWORD, x_forwarded_for="203.0.113.9").status_code == 429
    assert AccessAttempt.objects.get(username="victim").ip_address == "203.0.113.9"
    # Another real client behind the same proxy is not locked out.
    assert logged_in(attempt(proxy, PASSWORD, x_forwarded_for="198.51.100.20"))


def test_admin_login_is_counted_too(victim):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "victim", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "victim", "password": PASSWORD})
    assert response.status_code == 429


def test_api_lockout_is_problem_json(victim):
    client = Client(REMOTE_ADDR="203.0.113.8")
    credentials = {"username": "victim", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/login/", credentials)
    response = client.post("/api/v1/login/", credentials | {"password": PASSWORD})
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "throttled" and response.json()["status"] == 429
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_success_resets_the_count(victim):
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")
    assert logged_in(attempt(client, PASSWORD))
    client.logout()
    assert attempt(client, "wrong").status_code == 200  # counting starts again


def test_trusted_callers_without_a_request_still_authenticate(victim):
    assert authenticate(username="victim", password=PASSWORD) == victim
    assert authenticate(username="victim", password="wrong") is None
    assert Client().login(username="victim", password=PASSWORD)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.1", "", "203.0.113.1"),
        (0, "203.0.113.1", "198.51.100.1", "203.0.113.1"),
        (1, "10.0.0.2", "198.51.100.1", "198.51.100.1"),
        (1, "10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "10.0.0.3", "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "10.0.0.3", "10.0.0.2", "10.0.0.3"),  # fewer hops than configured: header ignored
        (1, "10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_client_ip(proxies, remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(NUM_PROXIES=proxies):
        assert client_ip(request) == expected
