"""Production settings: the deploy check passes, headers and cookies, friendly error pages."""

import json

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from tests.ops.helpers import manage, production_env, settings_of


def test_deploy_check_passes_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_passes_behind_a_tls_proxy():
    env = production_env(
        DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "warnings"),
    [
        ({"DJANGO_DEBUG": "true"}, ["security.W004", "security.W012"]),
        ({"DJANGO_DEBUG": "true", "DJANGO_DEBUG_PAGES": "true"}, ["security.W018"]),
        ({"DJANGO_SECRET_KEY": "short-and-guessable"}, ["security.W009"]),
        ({"DJANGO_SECURE_HSTS_SECONDS": "0"}, ["security.W004"]),
    ],
)
def test_deploy_check_fails_on_unsafe_settings(env, warnings):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(**env))
    assert result.returncode != 0
    for warning in warnings:
        assert warning in result.stderr


def test_production_needs_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def _boom(request):
    raise RuntimeError("secret internals: password=hunter2")


def _ok(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", _boom), path("ok/", _ok)]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_server_error_page_shows_no_traceback(db):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    for leak in ("Traceback", "RuntimeError", "hunter2", "secret internals", "_boom"):
        assert leak not in body
    assert "<script" not in body and "<style" not in body and "style=" not in body
    assert "/static/css/error.css" in body


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_not_found_page_is_friendly(db):
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "boom/" not in body  # DEBUG's URL list never shows
    assert "<script" not in body and "<style" not in body


def test_error_stylesheet_exists():
    from django.contrib.staticfiles import finders

    assert finders.find("css/error.css")


@override_settings(
    ROOT_URLCONF=__name__,
    DEBUG=False,
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=31536000,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_security_headers(db):
    client = Client()
    response = client.get("/ok/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    response = client.get("/ok/", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_cookies_and_storage_in_production():
    """The settings a production process computes (and a development one, for contrast)."""
    names = [
        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE",
        "SECURE_SSL_REDIRECT", "STORAGES",
    ]  # fmt: skip
    prod = settings_of(production_env(), names)
    assert [prod[name] for name in names[:7]] == [True, True, True, True, "Lax", "Lax", True]
    assert prod["STORAGES"]["staticfiles"]["BACKEND"].endswith(
        "CompressedManifestStaticFilesStorage"
    )
    dev = settings_of(production_env(DJANGO_DEBUG="true"), names)
    assert not dev["SESSION_COOKIE_SECURE"] and not dev["CSRF_COOKIE_SECURE"]
    assert not dev["SECURE_SSL_REDIRECT"]  # development stays on plain HTTP


def test_production_api_speaks_json_only_and_csp_is_strict():
    """No browsable API in production (DEBUG on: there for developers), and a CSP without
    'unsafe-inline' in either mode."""
    names = ["REST_FRAMEWORK", "CONTENT_SECURITY_POLICY"]
    prod = settings_of(production_env(), names)
    assert prod["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"] == [
        "rest_framework.renderers.JSONRenderer"
    ]
    dev = settings_of(production_env(DJANGO_DEBUG="true"), names)
    assert (
        "rest_framework.renderers.BrowsableAPIRenderer"
        in (dev["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"])
    )
    for mode in (prod, dev):
        directives = json.dumps(mode["CONTENT_SECURITY_POLICY"])
        assert "unsafe-inline" not in directives and "unsafe-eval" not in directives


@pytest.mark.django_db(transaction=True)  # sqlmigrate's schema editor, outside a transaction
@pytest.mark.parametrize("migration", ["0003", "0004"])
def test_report_indexes_are_built_without_blocking_writes(migration):
    """On PostgreSQL the report's indexes are built CONCURRENTLY (a plain CREATE INDEX would
    stop every insert into a big table while it builds); SQLite has no such option."""
    import io

    from django.core.management import call_command
    from django.db import connection

    out = io.StringIO()
    call_command("sqlmigrate", "ledger", migration, stdout=out)
    creates = [line for line in out.getvalue().splitlines() if line.startswith("CREATE INDEX")]
    assert creates
    concurrently = connection.vendor == "postgresql"
    assert all(("CONCURRENTLY" in line) == concurrently for line in creates), creates
