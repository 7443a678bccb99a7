"""Money and hours as JSON strings: parsed with an explicit pattern, never through a float."""

from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
)
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ledger import money
from ledger.errors import ValidationFailed
from ledger.params import MAX_ID, parse_id
from ledger.services.common import require_not_too_early

# The patterns below are the parsers' rules (ledger.money) written for clients; the parsers
# stay the authority. What no pattern can say: how many decimals the program's currency has
# (0 to 4) and the ceiling of 10^15 minor units; the descriptions say it instead.
_MONEY_OUT = {
    "type": "string",
    "pattern": r"^-?[0-9]+(\.[0-9]{1,4})?$",
    "example": "325.00",
    "description": "Money: a decimal string with exactly the currency's minor digits.",
}
_MONEY_IN = {
    "type": "string",
    "pattern": r"^[0-9]{1,20}(\.[0-9]{1,4})?$",
    "maxLength": 25,
    "example": "325.00",
    "description": (
        "Money: a decimal string, no sign or exponent, with at most the currency's minor "
        "digits (0 to 4: 2 for USD, 0 for JPY), at most 10^15 minor units."
    ),
}
# The same, more than zero: a non-zero digit in the whole part (at most 20 digits: one
# alternative per count of leading zeros, as regex dialects without lookahead need), or in the
# (at most 4) decimals.
_NONZERO_WHOLE = "|".join(f"0{{{zeros}}}[1-9][0-9]{{0,{19 - zeros}}}" for zeros in range(20))
_MONEY_IN_POSITIVE = {
    **_MONEY_IN,
    "pattern": (
        rf"^(?:(?:{_NONZERO_WHOLE})(?:\.[0-9]{{1,4}})?"
        r"|[0-9]{1,20}\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
    ),
    "description": "Money, more than zero: " + _MONEY_IN["description"][len("Money: ") :],
}
# More than 0, at most 24, at most 2 decimals (`money.parse_hours`); leading zeros allowed as
# the parser allows them (at most 20 digits before the point).
_HOURS = {
    "type": "string",
    "pattern": (
        r"^(?:0{0,19}[1-9](?:\.[0-9]{1,2})?"
        r"|0{0,18}(?:1[0-9]|2[0-3])(?:\.[0-9]{1,2})?"
        r"|0{0,18}24(?:\.00?)?"
        r"|0{1,20}\.(?:0[1-9]|[1-9][0-9]?))$"
    ),
    "maxLength": 23,
    "example": "2.50",
    "description": "Hours: more than 0, at most 24, at most 2 decimals.",
}
# Text that shows something: at least one character that is neither whitespace nor one of the
# common invisible ones (controls, zero-width and bidi marks, Hangul fillers, braille blank).
# The services refuse every invisible Unicode character (`services.common.is_blank`); a
# pattern can list only these without Unicode property classes, which not every client has.
# No NUL anywhere either: DRF's CharField refuses it.
VISIBLE_PATTERN = (
    r"^[^\u0000]*[^\s\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f"
    r"\u2028-\u202f\u2060-\u206f\ufeff\u115f\u1160\u3164\uffa0\u2800][^\u0000]*$"
)


class JSONStringMixin:
    """A JSON string, as the schema says: DRF's CharField would take 2.5 as "2.5"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(JSONStringMixin, serializers.CharField):
    pass


class TextRegexField(JSONStringMixin, serializers.RegexField):
    pass


class TextEmailField(JSONStringMixin, serializers.EmailField):
    pass


@extend_schema_field(
    {"type": "string", "pattern": VISIBLE_PATTERN, "description": "Must show something."}
)
class VisibleTextField(TextField):
    """Required text that must show something (blank or invisible-only text is refused by
    the services, `require_text`); the schema says so with a pattern."""


class MoneyInput(serializers.Field):
    """A money string. With a `currency` in the serializer context it is parsed here to minor
    units; otherwise its shape is checked and `validate` parses it once the currency is known."""

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(
                'Give the amount as a string such as "12.50", not a number.', code="invalid"
            )
        currency = self.context.get("currency")
        if currency is not None:
            return parse_money(data, currency, allow_zero=self.allow_zero)
        try:
            money.parse_decimal_string(data, places=30, allow_zero=self.allow_zero)
        except money.MoneyError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
        return data

    def to_representation(self, value):
        return value


class JSONBooleanField(serializers.BooleanField):
    """A JSON `true` or `false`, as the schema says: not DRF's form spellings ("yes", "on",
    "1", 0.0), which a JSON client sending them did not mean as a boolean."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class QueryBooleanField(serializers.BooleanField):
    """A query parameter that is `true` or `false`, spelt so: not DRF's other spellings
    ("1", "yes", "on", "True"), which a client sending them may not have meant. Left out, it
    is absent (not DRF's `false` for a form's unticked box)."""

    default_error_messages = {"invalid": "Give true or false."}
    default_empty_html = serializers.empty

    def to_internal_value(self, data):
        if data in ("true", "false"):
            return data == "true"
        self.fail("invalid", input=data)


class JSONIntegerField(serializers.IntegerField):
    """A JSON integer, as the schema says: DRF's IntegerField would take "7", 7.0 and
    true."""

    default_error_messages = {"invalid": "A whole number is required, not a string or fraction."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class PasswordField(serializers.Field):
    """A new password: a string of at most 4096 characters, judged by the validators of
    AUTH_PASSWORD_VALIDATORS in the serializer's `validate` (with the user's other fields).
    Not a CharField: drf-spectacular would state CharField's non-blank minLength 1 over the
    validators' own minimum, which the schema states instead."""

    MAX_LENGTH = 4096

    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Not a valid string.", code="invalid")
        if len(data) > self.MAX_LENGTH:
            raise serializers.ValidationError(
                f"Ensure this field has no more than {self.MAX_LENGTH} characters.",
                code="max_length",
            )
        if "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.", code="null")
        return data  # as typed: no trimming of a password

    def to_representation(self, value):
        return ""  # write-only; never rendered


class PasswordFieldSchema(OpenApiSerializerFieldExtension):
    """minLength from the configured MinimumLengthValidator, so the schema follows settings."""

    target_class = PasswordField

    def map_serializer_field(self, auto_schema, direction):
        lengths = [
            validator.min_length
            for validator in get_default_password_validators()
            if isinstance(validator, MinimumLengthValidator)
        ]
        return {
            "type": "string",
            "writeOnly": True,
            "minLength": max(lengths, default=1),
            "maxLength": PasswordField.MAX_LENGTH,
            "pattern": r"^[^\u0000]*$",
            "description": "Also refused: a common password, all digits, or one like the "
            "username or email.",
        }


class MoneyInputSchema(OpenApiSerializerFieldExtension):
    """A MoneyInput's schema: a pattern refusing zero unless the field allows zero."""

    target_class = MoneyInput

    def map_serializer_field(self, auto_schema, direction):
        schema = dict(_MONEY_IN if self.target.allow_zero else _MONEY_IN_POSITIVE)
        if self.target.allow_null:
            schema["nullable"] = True
        return schema


class IdRelatedFieldSchema(OpenApiSerializerFieldExtension):
    """An id naming an object: `parse_id`'s range (drf-spectacular says only "integer")."""

    target_class = "ledger.api.fields.IdRelatedField"
    match_subclasses = True  # VisibleIdRelatedField too

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def parse_money(value: str, currency: str, *, allow_zero: bool = False) -> int:
    """Parse a money string to minor units; a MoneyError becomes a ValidationError."""
    try:
        return money.parse_minor(value, currency, allow_zero=allow_zero)
    except money.MoneyError as exc:
        raise serializers.ValidationError(str(exc), code="invalid") from None


def _getter(path: str):
    """Follow a dotted path through attributes or dict keys."""
    parts = path.split(".")

    def get(obj):
        for part in parts:
            obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
        return obj

    return get


@extend_schema_field(_MONEY_OUT)
class MoneyOutput(serializers.Field):
    """Read-only money from integer minor units on the object, in its currency."""

    def __init__(self, minor: str, currency: str = "program.currency", **kwargs):
        self.minor = minor  # the minor-units attribute (or row key) rendered
        self.minor_getter = _getter(minor)
        self.currency_getter = _getter(currency)
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)

    def to_representation(self, value):
        minor = self.minor_getter(value)
        if minor is None:
            return None
        return money.format_minor(minor, self.currency_getter(value))


@extend_schema_field({**_MONEY_OUT, "nullable": True})
class NullableMoneyOutput(MoneyOutput):
    pass


@extend_schema_field(_HOURS)
class HoursField(serializers.Field):
    def to_internal_value(self, data):
        try:
            return money.parse_hours(data)
        except money.MoneyError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None

    def to_representation(self, value):
        return money.format_hours(value)


@extend_schema_field({**_HOURS, "nullable": True})
class NullableHoursField(HoursField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^[0-9]+\.[0-9]{2}$",
        "example": "169.00",
        "description": "A total of hours (any size), always 2 decimals.",
        "nullable": True,
    }
)
class TotalHoursField(serializers.Field):
    """Read-only sum of many contributions' hours (not limited to 24 like one contribution)."""

    def to_representation(self, value):
        return money.format_hours(value)


class IdField(serializers.IntegerField):
    """An id in a query string or a body: `ledger.params.parse_id`'s rules (ASCII digits or a
    JSON integer, 1 to 2**63 - 1), not DRF's `int()`, which takes "١٢" and " 7 "."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        number = parse_id(data)
        if number is None:
            if isinstance(data, int) and not isinstance(data, bool):
                return super().to_internal_value(data)  # out of range: DRF's own message
            self.fail("invalid")
        return number


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object named by its id, parsed by `ledger.params.parse_id` first (a value that
    cannot be an id names no object, without reaching the database)."""

    def to_internal_value(self, data):
        number = parse_id(data)
        if number is None:
            if isinstance(data, str | int) and not isinstance(data, bool):
                self.fail("does_not_exist", pk_value=data)
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(number)


class VisibleIdRelatedField(IdRelatedField):
    """An id naming an object the caller sees (`visible_to(request.user)`, from the serializer
    context's request): an object it may not see is no object, a 400 naming the field, so a
    body cannot tell it apart from an id that names nothing."""

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        return queryset if request is None else queryset.visible_to(request.user)


class LedgerDateField(serializers.DateField):
    """An ISO date no earlier than the ledger's floor (`services.common.require_not_too_early`,
    the one home of that rule), for query filters; writes get the same check in the services."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        try:
            require_not_too_early(day, self.field_name)
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.message, code="invalid") from None
        return day
