import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from ledger.api.auth import issue_token


@pytest.fixture(autouse=True)
def _fresh_throttles(request):
    """Throttle counters live in the shared cache, a database table: tests that use the
    database start and end with it empty (the others never reach a throttle)."""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
    } & set(request.fixturenames)
    if uses_db:
        request.getfixturevalue("db")  # set up before this autouse fixture touches the table
        cache.clear()
    yield
    if uses_db:
        cache.clear()


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        _, secret = issue_token(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def admin_api(admin):
    return client_for(admin)


@pytest.fixture
def artist_api(artist):
    return client_for(artist)


@pytest.fixture
def artist2_api(artist2):
    return client_for(artist2)


def problem(response, status, code=None):
    """Assert `response` is a problem+json with `status` (and `code`); return its body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "code"}
    assert body["status"] == status
    assert "Traceback" not in response.content.decode()
    if code is not None:
        assert body["code"] == code, body
    return body


def fields_of(body) -> set:
    return {item["field"] for item in body.get("errors", [])}
