"""Two-factor sign-in on the API: `otp` at token creation, `LEDGER_STAFF_REQUIRE_2FA` for
staff, the lockout, and `otp_enabled` on /me/. Tokens are not sessions: those already issued
keep working when the requirement is turned on."""

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from rest_framework.test import APIClient

from ledger import services
from tests.api.conftest import client_for, problem
from tests.factories import PASSWORD, UserFactory
from tests.second_factor import enrol

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/tokens/"


@pytest.fixture
def treasurer(admin, program):
    user = UserFactory(username="treasurer1")
    services.grant_role(actor=admin, program=program, user=user, role="treasurer")
    return user


def create(anon, user, **extra):
    return anon.post(URL, {"username": user.username, "password": PASSWORD, **extra}, format="json")


def otp_error(response, code):
    body = problem(response, 401, "authentication_failed")
    assert body["errors"] == [{"field": "otp", "code": code, "message": body["detail"]}]
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    return body


def client_for_secret(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_enrolled_user_needs_a_code(anon, treasurer, otp_clock):
    device, _codes = enrol(treasurer, otp_clock)
    body = otp_error(create(anon, treasurer), "required")
    assert "`otp`" in body["detail"]
    otp_error(create(anon, treasurer, otp=""), "required")
    otp_error(create(anon, treasurer, otp=otp_clock.wrong_code(device.key)), "invalid")
    otp_error(create(anon, treasurer, otp="not a code"), "invalid")

    response = create(anon, treasurer, otp=otp_clock.code(device.key), name="ci")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "ci"
    me = client_for_secret(response.json()["token"]).get("/api/v1/me/").json()
    assert me["username"] == treasurer.username and me["otp_enabled"] is True


def test_wrong_password_is_still_the_first_answer(anon, treasurer, otp_clock):
    device, _codes = enrol(treasurer, otp_clock)
    body = problem(
        anon.post(
            URL,
            {"username": treasurer.username, "password": "nope", "otp": otp_clock.code(device.key)},
            format="json",
        ),
        401,
        "authentication_failed",
    )
    assert body["detail"] == "Bad username or password." and "errors" not in body


def test_recovery_code_creates_one_token_only(anon, artist, otp_clock):
    _device, codes = enrol(artist, otp_clock)
    assert create(anon, artist, otp=codes[3]).status_code == 201
    assert not StaticToken.objects.filter(token=codes[3]).exists()
    otp_error(create(anon, artist, otp=codes[3]), "invalid")


def test_required_staff_without_a_device_must_enrol_first(anon, settings, treasurer, admin):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    for user in (treasurer, admin):
        body = problem(create(anon, user), 403, "permission_denied")
        assert "/account/two-factor/" in body["detail"]
        problem(create(anon, user, otp="123456"), 403, "permission_denied")
    settings.LEDGER_STAFF_REQUIRE_2FA = False
    assert create(anon, treasurer).status_code == 201


def test_required_staff_with_a_device_send_a_code(anon, settings, treasurer, otp_clock):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    device, _codes = enrol(treasurer, otp_clock)
    otp_error(create(anon, treasurer), "required")
    assert create(anon, treasurer, otp=otp_clock.code(device.key)).status_code == 201


def test_artists_are_never_asked(anon, settings, artist):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    assert create(anon, artist).status_code == 201


def test_tokens_issued_before_keep_working(settings, treasurer, admin):
    api = client_for(treasurer)
    operator = client_for(admin)
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    assert api.get("/api/v1/me/").status_code == 200
    assert operator.get("/api/v1/programs/").status_code == 200


def test_wrong_codes_lock_the_user_out(anon, settings, treasurer, otp_clock):
    settings.AXES_FAILURE_LIMIT = 3
    device, _codes = enrol(treasurer, otp_clock)
    wrong = otp_clock.wrong_code(device.key)
    otp_error(create(anon, treasurer, otp=wrong), "invalid")
    otp_error(create(anon, treasurer, otp=wrong), "invalid")
    locked = problem(create(anon, treasurer, otp=wrong), 429, "throttled")
    assert "Too many failed logins" in locked["detail"]
    # Now even the right password with the right code is refused, until the cool-off ends.
    response = create(anon, treasurer, otp=otp_clock.code(device.key))
    problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_a_missing_code_is_not_a_guess(anon, settings, treasurer, otp_clock):
    """Clients that do not know about `otp` yet are told, not locked out."""
    settings.AXES_FAILURE_LIMIT = 2
    device, _codes = enrol(treasurer, otp_clock)
    for _ in range(3):
        otp_error(create(anon, treasurer), "required")
    assert create(anon, treasurer, otp=otp_clock.code(device.key)).status_code == 201


def test_me_says_whether_the_second_factor_is_on(artist, otp_clock):
    api = client_for(artist)
    assert api.get("/api/v1/me/").json()["otp_enabled"] is False
    enrol(artist, otp_clock)
    assert api.get("/api/v1/me/").json()["otp_enabled"] is True
    device = artist.totpdevice_set.get()
    services.disable_second_factor(actor=artist, code=otp_clock.code(device.key))
    assert api.get("/api/v1/me/").json()["otp_enabled"] is False


def test_schema_describes_otp(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    otp = components["TokenCreateRequest"]["properties"]["otp"]
    assert otp["type"] == "string" and otp["writeOnly"] and otp["maxLength"] == 64
    assert "otp" not in components["TokenCreateRequest"].get("required", [])
    assert components["Me"]["properties"]["otp_enabled"]["type"] == "boolean"
    assert "otp_enabled" in components["Me"]["required"]
    create = schema["paths"]["/api/v1/auth/tokens/"]["post"]
    assert "`otp`" in create["responses"]["401"]["description"]
    assert "LEDGER_STAFF_REQUIRE_2FA" in create["description"]
    assert "permission_denied" in create["responses"]["403"]["description"]
