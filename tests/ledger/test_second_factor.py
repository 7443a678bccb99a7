"""The second factor's core (`accounts.second_factor`) and its services: who must have one,
checking codes, enrolment writing nothing on a wrong code, and the QR code's geometry."""

import re
from types import SimpleNamespace

import pytest
import segno
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor
from ledger import services
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import AuditEvent
from tests.factories import UserFactory
from tests.second_factor import enrol

pytestmark = pytest.mark.django_db


def test_qr_code_draws_exactly_the_dark_modules():
    text = "otpauth://totp/Artist%20ledger%3Aada?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    qr = second_factor.qr_code(text)
    expected = {
        (x, y)
        for y, row in enumerate(segno.make(text, error="m").matrix_iter(border=4))
        for x, dark in enumerate(row)
        if dark
    }
    drawn = set()
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", qr.path):
        drawn |= {(int(x) + i, int(y)) for i in range(int(width))}
    assert re.fullmatch(r"(M\d+ \d+h\d+v1h-\d+z)+", qr.path)
    assert drawn == expected
    version = segno.make(text, error="m").version
    assert qr.size == 17 + 4 * version + 2 * 4  # its modules and the 4-module quiet zone
    assert not {(x, y) for x, y in drawn if min(x, y) < 4 or max(x, y) >= qr.size - 4}


def test_secret_for_people_is_the_key_in_base32():
    key = "3132333435363738393031323334353637383930"  # b"12345678901234567890"
    assert second_factor.secret_for_people(key) == "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
    assert second_factor.is_secret(key)
    assert not second_factor.is_secret("zz" * 20) and not second_factor.is_secret(None)
    uri = second_factor.provisioning_uri(UserFactory(username="ada"), key)
    assert uri.startswith("otpauth://totp/Artist%20ledger%3Aada?secret=GEZDGNBV")


def test_required_only_for_staff_while_the_setting_is_on(settings, admin, artist, program):
    reviewer = UserFactory(username="rev")
    services.grant_role(actor=admin, program=program, user=reviewer, role="auditor")
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    assert second_factor.required(admin) and second_factor.required(reviewer)
    assert not second_factor.required(artist)
    settings.LEDGER_STAFF_REQUIRE_2FA = False
    assert not second_factor.required(admin) and not second_factor.required(reviewer)


def test_due_says_what_a_session_owes(settings, admin, otp_clock):
    def session_user(verified):
        admin.is_verified = lambda: verified
        return admin

    settings.LEDGER_STAFF_REQUIRE_2FA = True
    assert second_factor.due(session_user(False)) == second_factor.ENROL
    enrol(admin, otp_clock)
    assert second_factor.due(session_user(False)) == second_factor.VERIFY
    assert second_factor.due(session_user(True)) is None
    assert second_factor.due(SimpleNamespace(is_authenticated=False)) is None
    settings.LEDGER_STAFF_REQUIRE_2FA = False
    assert second_factor.due(session_user(False)) is None


def test_enabling_with_a_wrong_code_writes_nothing(artist, otp_clock):
    key = second_factor.new_secret()
    with pytest.raises(ValidationFailed) as refused:
        services.enable_second_factor(actor=artist, key=key, code=otp_clock.wrong_code(key))
    assert refused.value.field == "code"
    assert not TOTPDevice.objects.filter(user=artist).exists()
    assert not StaticDevice.objects.filter(user=artist).exists()
    assert not AuditEvent.objects.filter(action="otp.enable").exists()
    with pytest.raises(ValidationFailed):
        services.enable_second_factor(actor=artist, key="not hex", code="123456")


def test_enabling_twice_is_refused(artist, otp_clock):
    device, codes = enrol(artist, otp_clock)
    assert len(codes) == second_factor.RECOVERY_CODE_COUNT == 10
    key = second_factor.new_secret()
    with pytest.raises(InvalidTransition):
        services.enable_second_factor(actor=artist, key=key, code=otp_clock.code(key))
    assert list(TOTPDevice.objects.filter(user=artist)) == [device]
    event = AuditEvent.objects.get(action="otp.enable")
    assert event.actor == artist and event.object_id == str(device.pk)


def test_the_confirming_code_cannot_be_used_again(artist, otp_clock):
    key = second_factor.new_secret()
    code = otp_clock.code(key)
    services.enable_second_factor(actor=artist, key=key, code=code)
    assert second_factor.verify_code(artist, code) is None


def test_codes_are_read_as_people_type_them(artist, otp_clock):
    device, codes = enrol(artist, otp_clock)
    code = otp_clock.code(device.key)
    assert second_factor.verify_code(artist, f" {code[:3]}-{code[3:]} ") == device
    recovery = codes[0]
    typed = f"{recovery[:4].upper()} {recovery[4:].upper()}"
    assert isinstance(second_factor.verify_code(artist, typed), StaticDevice)
    assert second_factor.recovery_codes_left(artist) == 9
    for garbage in ("", "12345", "1234567", "!!!!!!!!", "x" * 64):
        assert second_factor.verify_code(artist, garbage) is None


def test_a_user_without_a_device_has_no_valid_code(artist):
    assert second_factor.verify_code(artist, "123456") is None
    assert second_factor.verify_code(artist, "abcdefgh") is None
    assert not second_factor.is_enrolled(artist)


def test_another_users_codes_do_not_work(artist, artist2, otp_clock):
    device, codes = enrol(artist, otp_clock)
    assert second_factor.verify_code(artist2, codes[0]) is None
    assert second_factor.verify_code(artist2, otp_clock.code(device.key)) is None
    assert second_factor.recovery_codes_left(artist) == 10


def test_device_throttling_makes_the_next_try_wait(artist, otp_clock, settings):
    """Beside the lockout, each device makes the next try wait after a wrong code."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    device, _codes = enrol(artist, otp_clock)
    assert second_factor.verify_code(artist, otp_clock.wrong_code(device.key)) is None
    assert second_factor.verify_code(artist, otp_clock.code(device.key)) is None  # too soon
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a refused early try is not a guess


def test_disabling_and_new_codes_need_a_device(artist):
    with pytest.raises(InvalidTransition):
        services.disable_second_factor(actor=artist, code="123456")
    with pytest.raises(InvalidTransition):
        services.regenerate_recovery_codes(actor=artist)
