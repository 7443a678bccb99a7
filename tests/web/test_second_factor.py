"""Two-factor sign-in on the pages: enrolment, the code step after the password, recovery
codes, and `LEDGER_STAFF_REQUIRE_2FA` sending staff to enrol or verify before any page.

Codes are computed here from the secret the page shows, as an authenticator app computes them;
the `otp_clock` fixture moves django-otp's clock to each next 30-second step.
"""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor
from ledger import services
from ledger.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.second_factor import enrol, key_from_setup_text

from .pages import field_error

pytestmark = pytest.mark.django_db

CODES = re.compile(r"<li><code>([a-z2-7]{8})</code></li>")


@pytest.fixture
def reviewer(admin, program):
    """Staff of one program (not an operator)."""
    user = UserFactory(username="reviewer1")
    services.grant_role(actor=admin, program=program, user=user, role="reviewer")
    return user


def sign_in(client, user, **extra):
    return client.post("/login/", {"username": user.username, "password": PASSWORD, **extra})


def setup_key(response) -> str:
    match = re.search(r'id="enrol-secret" value="([A-Z2-7 ]+)"', response.content.decode())
    assert match, "no setup key shown"
    return key_from_setup_text(match.group(1))


# --- Enrolment ------------------------------------------------------------------------------


def test_enrolment_end_to_end(client_for, reviewer, otp_clock):
    client = client_for(reviewer)
    html = client.get("/account/two-factor/").content.decode()
    assert "Off" in html and "/account/two-factor/enrol/" in html

    response = client.get("/account/two-factor/enrol/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    # The QR code is drawn in the page: an inline <svg> with a path of dark modules.
    assert re.search(r'<svg class="qr-code" viewBox="0 0 (\d+) \1" role="img"', html)
    assert re.search(r'<path fill="#000000" d="(M\d+ \d+h\d+v1h-\d+z)+"', html)
    key = setup_key(response)
    # Reloading shows the same secret (the app may already have it).
    assert setup_key(client.get("/account/two-factor/enrol/")) == key
    assert not TOTPDevice.objects.filter(user=reviewer).exists()  # nothing until confirmed

    response = client.post("/account/two-factor/enrol/", {"code": otp_clock.wrong_code(key)})
    assert response.status_code == 200
    assert "does not match" in field_error(response, "code")
    assert not TOTPDevice.objects.filter(user=reviewer).exists()

    response = client.post("/account/two-factor/enrol/", {"code": otp_clock.code(key)})
    assert response.status_code == 302 and response.url == "/account/two-factor/"
    device = TOTPDevice.objects.get(user=reviewer)
    assert device.confirmed and device.key == key
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id  # verified now

    response = client.get("/account/two-factor/")
    assert response["Cache-Control"] == "no-store"
    codes = CODES.findall(response.content.decode())
    assert len(codes) == len(set(codes)) == 10
    assert sorted(
        StaticToken.objects.filter(device__user=reviewer).values_list("token", flat=True)
    ) == sorted(codes)
    html = client.get("/account/two-factor/").content.decode()
    assert CODES.findall(html) == []  # shown once only
    assert "10 of 10" in html
    assert AuditEvent.objects.filter(action="otp.enable", actor=reviewer).count() == 1
    assert client.get("/account/two-factor/enrol/").status_code == 302  # already on


def test_enrolment_code_in_groups_is_accepted(client_for, artist, otp_clock):
    """Anyone signed in may enrol, not only staff; "123 456" is typed as apps show it."""
    client = client_for(artist)
    key = setup_key(client.get("/account/two-factor/enrol/"))
    code = otp_clock.code(key)
    response = client.post("/account/two-factor/enrol/", {"code": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 302
    assert second_factor.is_enrolled(artist)


def test_enrolment_code_must_be_six_digits(client_for, artist):
    client = client_for(artist)
    client.get("/account/two-factor/enrol/")
    response = client.post("/account/two-factor/enrol/", {"code": "abc"})
    assert "6 digits" in field_error(response, "code")
    assert not TOTPDevice.objects.filter(user=artist).exists()


def test_enrol_pages_need_sign_in(client):
    for url in ("/account/two-factor/", "/account/two-factor/enrol/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")


def test_new_pages_keep_the_strict_csp(client_for, artist, otp_clock):
    client = client_for(artist)
    for url in ("/account/two-factor/", "/account/two-factor/enrol/"):
        response = client.get(url)
        html = response.content.decode()
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert " style=" not in html and "<style" not in html, url
        assert "data:" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url


# --- Signing in with a code -----------------------------------------------------------------


def test_sign_in_asks_an_enrolled_user_for_a_code(client, reviewer, otp_clock):
    device, _codes = enrol(reviewer, otp_clock)
    response = sign_in(client, reviewer, next="/payouts/")
    assert response.status_code == 302 and response.url == "/login/code/"
    assert SESSION_KEY not in client.session  # the password alone signs no one in
    assert client.get("/").url.startswith("/login/")
    page = client.get("/login/code/")
    assert page.status_code == 200 and b'name="code"' in page.content

    response = client.post("/login/code/", {"code": otp_clock.wrong_code(device.key)})
    assert response.status_code == 200
    assert "not valid" in field_error(response, "code")
    assert SESSION_KEY not in client.session

    response = client.post("/login/code/", {"code": otp_clock.code(device.key)})
    assert response.status_code == 302 and response.url == "/payouts/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/payouts/").status_code == 200


def test_a_code_is_not_accepted_twice(client, artist, otp_clock):
    device, _codes = enrol(artist, otp_clock)
    sign_in(client, artist)
    code = otp_clock.code(device.key)
    assert client.post("/login/code/", {"code": code}).status_code == 302
    client.post("/logout/")
    sign_in(client, artist)
    response = client.post("/login/code/", {"code": code})  # the same step again
    assert response.status_code == 200 and SESSION_KEY not in client.session


def test_users_without_a_device_sign_in_with_the_password(client, reviewer, settings):
    settings.LEDGER_STAFF_REQUIRE_2FA = False
    response = sign_in(client, reviewer)
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/review/").status_code == 200


def test_code_step_without_a_password_first_goes_back_to_sign_in(client, artist):
    response = client.get("/login/code/")
    assert response.status_code == 302 and response.url == "/login/"
    response = client.post("/login/code/", {"code": "123456"})
    assert response.status_code == 302 and response.url == "/login/"


def test_code_step_expires(client, artist, otp_clock, monkeypatch):
    from ledger.web.views import second_factor as views

    device, _codes = enrol(artist, otp_clock)
    sign_in(client, artist)
    monkeypatch.setattr(views, "PENDING_SECONDS", -1)
    response = client.post("/login/code/", {"code": otp_clock.code(device.key)})
    assert response.status_code == 302 and response.url == "/login/"
    assert SESSION_KEY not in client.session


def test_recovery_code_signs_in_once(client, artist, otp_clock):
    _device, codes = enrol(artist, otp_clock)
    sign_in(client, artist)
    response = client.post("/login/code/", {"code": codes[0].upper()}, follow=True)
    assert response.status_code == 200 and SESSION_KEY in client.session
    assert "9 left" in response.content.decode()
    assert StaticToken.objects.filter(device__user=artist).count() == 9
    client.post("/logout/")
    sign_in(client, artist)
    response = client.post("/login/code/", {"code": codes[0]})
    assert response.status_code == 200 and SESSION_KEY not in client.session
    assert "not valid" in field_error(response, "code")
    assert client.post("/login/code/", {"code": codes[1]}).status_code == 302


def test_wrong_codes_lock_the_user_out(client, artist, otp_clock, settings):
    settings.AXES_FAILURE_LIMIT = 3
    device, _codes = enrol(artist, otp_clock)
    sign_in(client, artist)
    wrong = otp_clock.wrong_code(device.key)
    assert client.post("/login/code/", {"code": wrong}).status_code == 200
    assert client.post("/login/code/", {"code": wrong}).status_code == 200
    locked = client.post("/login/code/", {"code": wrong})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    # Locked out: the right code is refused, and so is the right password.
    assert client.post("/login/code/", {"code": otp_clock.code(device.key)}).status_code == 429
    assert client.get("/login/code/").status_code == 429
    assert SESSION_KEY not in client.session
    assert sign_in(client, artist).status_code == 429


def test_a_right_code_resets_the_failure_count(client, artist, otp_clock, settings):
    settings.AXES_FAILURE_LIMIT = 3
    device, _codes = enrol(artist, otp_clock)
    for _ in range(3):
        sign_in(client, artist)
        client.post("/login/code/", {"code": otp_clock.wrong_code(device.key)})
        client.post("/login/code/", {"code": otp_clock.wrong_code(device.key)})
        assert client.post("/login/code/", {"code": otp_clock.code(device.key)}).status_code == 302
        client.post("/logout/")


def test_admin_login_refuses_an_enrolled_user(client, admin, otp_clock):
    admin.is_staff = True  # the admin site's own flag
    admin.save(update_fields=["is_staff"])
    enrol(admin, otp_clock)
    response = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "second factor" in response.content.decode()
    assert SESSION_KEY not in client.session


# --- Turning it off, new recovery codes -----------------------------------------------------


def test_turning_it_off_needs_a_current_code(client, artist, otp_clock):
    device, _codes = enrol(artist, otp_clock)
    sign_in(client, artist)
    client.post("/login/code/", {"code": otp_clock.code(device.key)})
    response = client.post(
        "/account/two-factor/disable/", {"disable-code": otp_clock.wrong_code(device.key)}
    )
    assert response.status_code == 200
    assert "not valid" in field_error(response, "disable-code")
    assert second_factor.is_enrolled(artist)
    response = client.post("/account/two-factor/disable/", {"disable-code": ""})
    assert "required" in field_error(response, "disable-code")

    response = client.post(
        "/account/two-factor/disable/", {"disable-code": otp_clock.code(device.key)}
    )
    assert response.status_code == 302
    assert not second_factor.is_enrolled(artist)
    assert not StaticDevice.objects.filter(user=artist).exists()
    assert AuditEvent.objects.filter(action="otp.disable", actor=artist).count() == 1
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert sign_in(client, artist).url == "/"  # the password alone again


def test_new_recovery_codes_replace_the_old(client, artist, otp_clock):
    device, old = enrol(artist, otp_clock)
    sign_in(client, artist)
    client.post("/login/code/", {"code": otp_clock.code(device.key)})
    assert client.get("/account/two-factor/recovery-codes/").status_code == 405
    response = client.post("/account/two-factor/recovery-codes/")
    assert response.status_code == 302
    new = CODES.findall(client.get("/account/two-factor/").content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert second_factor.verify_code(artist, old[0]) is None
    assert second_factor.verify_code(artist, new[0]) is not None
    assert AuditEvent.objects.filter(action="otp.recovery_codes", actor=artist).count() == 1


def test_new_recovery_codes_need_a_second_factor(client_for, artist):
    client = client_for(artist)
    response = client.post("/account/two-factor/recovery-codes/", follow=True)
    assert "Turn on your second factor first" in response.content.decode()
    assert not StaticDevice.objects.filter(user=artist).exists()


# --- LEDGER_STAFF_REQUIRE_2FA ---------------------------------------------------------------


def test_setting_defaults_off_in_development_and_tests(settings):
    assert settings.DEVELOPMENT and settings.LEDGER_STAFF_REQUIRE_2FA is False


@pytest.mark.parametrize("staff", ["operator", "reviewer"])
def test_required_staff_without_a_device_are_sent_to_enrolment(
    client_for, settings, staff, admin, reviewer
):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    client = client_for(admin if staff == "operator" else reviewer)
    for url in ("/review/", "/", "/programs/", "/tokens/", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/account/two-factor/enrol/?next="), url
    assert client.get("/account/two-factor/enrol/").status_code == 200
    assert client.get("/account/two-factor/").status_code == 200
    settings.LEDGER_STAFF_REQUIRE_2FA = False
    assert client.get("/review/").status_code == 200


def test_required_staff_with_a_device_verify_before_any_page(
    client_for, settings, reviewer, otp_clock
):
    """A session signed in before the device was set up (or by another way in) owes a code."""
    device, _codes = enrol(reviewer, otp_clock)
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    client = client_for(reviewer)  # signed in, not verified
    response = client.get("/review/?page=1")
    assert response.status_code == 302
    assert response.url == "/login/code/?next=%2Freview%2F%3Fpage%3D1"
    assert client.get("/account/two-factor/").status_code == 302  # not while unverified
    page = client.get(response.url)
    assert page.status_code == 200 and b'name="next" value="/review/?page=1"' in page.content
    response = client.post(
        "/login/code/", {"code": otp_clock.code(device.key), "next": "/review/?page=1"}
    )
    assert response.status_code == 302 and response.url == "/review/?page=1"
    assert client.get("/review/").status_code == 200

    settings.LEDGER_STAFF_REQUIRE_2FA = False
    assert client_for(reviewer).get("/review/").status_code == 200


def test_required_staff_sign_in_then_enrol_then_carry_on(client, settings, reviewer, otp_clock):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    response = sign_in(client, reviewer, next="/review/")
    assert response.url == "/review/"
    response = client.get("/review/")
    assert response.url == "/account/two-factor/enrol/?next=%2Freview%2F"
    enrol_page = client.get(response.url)
    assert b"Your staff role needs a second factor" in enrol_page.content
    key = setup_key(enrol_page)
    response = client.post(response.url, {"code": otp_clock.code(key), "next": "/review/"})
    assert response.url == "/account/two-factor/"
    html = client.get("/account/two-factor/").content.decode()
    assert len(CODES.findall(html)) == 10 and 'href="/review/"' in html
    assert client.get("/review/").status_code == 200


def test_artists_are_never_asked(client, settings, artist):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    response = sign_in(client, artist)
    assert response.url == "/"
    for url in ("/", "/contributions/", "/tokens/", "/programs/"):
        assert client.get(url).status_code == 200, url


def test_htmx_requests_are_sent_to_a_whole_page(client_for, settings, reviewer):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    response = client_for(reviewer).get("/review/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/account/two-factor/enrol/")


def test_unverified_staff_session_is_not_signed_in_on_the_api(
    client_for, settings, reviewer, otp_clock
):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    client = client_for(reviewer)
    assert client.get("/api/v1/me/").status_code == 401
    device, _codes = enrol(reviewer, otp_clock)
    assert client.get("/api/v1/me/").status_code == 401
    client.post("/login/code/", {"code": otp_clock.code(device.key)})
    me = client.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["otp_enabled"] is True


def test_new_recovery_codes_need_a_verified_session(client_for, artist, otp_clock):
    """A session from before the factor was set up cannot mint codes standing in for it."""
    device, old = enrol(artist, otp_clock)
    client = client_for(artist)  # signed in, never passed a code
    response = client.post("/account/two-factor/recovery-codes/")
    assert response.status_code == 302 and response.url.startswith("/login/code/")
    assert second_factor.verify_code(artist, old[0]) is not None  # the old codes still work
    client.post("/login/code/", {"code": otp_clock.code(device.key)})
    assert client.post("/account/two-factor/recovery-codes/").url == "/account/two-factor/"
    assert second_factor.verify_code(artist, old[1]) is None
