"""What every resource's shapes share: text limits, timestamps, row rendering, reasons."""

import datetime as dt

from django.db.models import F
from rest_framework import serializers

from ledger.money import format_hours, format_minor

from ..fields import (
    HoursField,
    IdField,
    MoneyOutput,
    VisibleTextField,
)

TEXT_MAX = 10_000


def timestamp(value) -> str | None:
    """A datetime in UTC as DRF's DateTimeField renders it with TIME_ZONE = "UTC": ISO 8601,
    "Z" for the offset. UTC directly, not the current time zone: the contract says UTC, and
    looking the current zone up cost more than the rest of the row."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().removesuffix("+00:00") + "Z"


def iso_date(value) -> str | None:
    return None if value is None else value.isoformat()


# Read-only output of a list and its detail: one row (a dict, from `rows()` or a plain-SQL
# read in ledger.queries) rendered by plain code. Why: over a 50-row page, DRF's field-by-field
# rendering of model instances (a model instance per row and per related row) cost most of the
# request (docs/PERFORMANCE.md). The fields are declared once, as on any ModelSerializer: the
# declaration gives the OpenAPI schema, the columns `rows()` reads and the rendering
# (`_row_renderer`), so a new field is one declaration here and one column in its row source.
# Rows are keyed by field name, money by its minor-units key beside a `currency` key.
# (A comment, not a docstring: drf-spectacular would publish a docstring as the description
# of every schema component built on this class.)
class RowSerializer(serializers.ModelSerializer):
    @classmethod
    def render(cls, row) -> dict:
        """One row as the API shows it (the function `_row_renderer` builds, once per class)."""
        if "_render" not in cls.__dict__:
            cls._render = staticmethod(_row_renderer(cls().fields))
        return cls._render(row)

    @classmethod
    def rows(cls, queryset):
        """The queryset as rows: the declared fields' columns (`.values()`)."""
        if "_columns" not in cls.__dict__:
            # Once per class, as the renderer: building a ModelSerializer's fields maps every
            # model field anew, 0.4-0.6 ms, more than a page's query (docs/PERFORMANCE.md).
            cls._columns = _row_columns(cls().fields)
        columns, expressions = cls._columns
        return queryset.values(*columns, **expressions)

    @classmethod
    def load(cls, rows: list) -> list:
        """Complete a page of rows (one more query at most, never one per row)."""
        return rows

    def to_representation(self, row):
        return self.render(row)


def _row_columns(fields) -> tuple[list[str], dict]:
    """The columns and expressions `.values()` reads for the declared `fields`."""
    columns, expressions = [], {}
    for name, field in fields.items():
        if isinstance(field, MoneyOutput):
            columns.append(field.minor)
            expressions["currency"] = F("program__currency")
        elif isinstance(field, serializers.ListSerializer):
            continue  # nested rows: attached by `load`
        elif field.source not in (name, "*"):  # a related column, or one renamed on the wire
            expressions[name] = F(field.source.replace(".", "__"))
        else:
            columns.append(name)
    return columns, expressions


def _row_renderer(fields):
    """A function rendering one row as the declared `fields` say: money and hours as exact
    strings, dates ISO, timestamps UTC, nested rows as their own serializer declares,
    anything else as it is. Generated as one dict display (nested rows inlined as a
    comprehension), the fastest Python has for building a dict (a loop over per-field
    closures cost 40% more per page); the source is built from field names and constant code
    only, never from data."""
    helpers = {"format_minor": format_minor, "fmt_hours": format_hours}
    helpers |= {"timestamp": timestamp, "iso_date": iso_date}
    source = f"def render(row):\n    return {_dict_display(fields, 'row', helpers)}\n"
    exec(compile(source, "<RowSerializer>", "exec"), helpers)  # noqa: S102  # nosec B102 (constant code)
    return helpers["render"]


def _dict_display(fields, row: str, helpers: dict, depth: int = 0) -> str:
    """The source of a dict display rendering the variable `row` as `fields` declare."""
    items = []
    for name, field in fields.items():
        key = repr(name)
        if isinstance(field, MoneyOutput):
            minor = repr(field.minor)  # minor units
            value = (
                f"(None if {row}[{minor}] is None "
                f"else format_minor({row}[{minor}], {row}['currency']))"
            )
        elif isinstance(field, HoursField):
            value = f"fmt_hours({row}[{key}])"
        elif isinstance(field, serializers.DateTimeField):
            value = f"timestamp({row}[{key}])"
        elif isinstance(field, serializers.DateField):
            value = f"iso_date({row}[{key}])"
        elif isinstance(field, serializers.ListSerializer):
            item = f"item{depth}"
            inner = _dict_display(type(field.child)().fields, item, helpers, depth + 1)
            value = f"[{inner} for {item} in {row}[{key}]]"
        else:
            value = f"{row}[{key}]"
        items.append(f"{key}: {value}")
    return "{" + ", ".join(items) + "}"


class QuerySerializer(serializers.Serializer):
    """Query parameters: each declared one given at most once and never empty. DRF's form
    handling would skip an empty optional value (`?status=`) and take the last of repeated
    ones; a client sending either meant something the server would silently not do."""

    def to_internal_value(self, data):
        errors = {}
        for name in self.fields:
            values = data.getlist(name) if hasattr(data, "getlist") else []
            if len(values) > 1:
                errors[name] = ["Give this parameter once."]
            elif values == [""]:
                errors[name] = ["May not be empty; leave the parameter out instead."]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class ProgramArtistFilterSerializer(QuerySerializer):
    """`?program=` and `?artist=`, each optional: how every list narrows to one program or one
    artist. A list with more filters extends it."""

    program = IdField(required=False)
    artist = IdField(required=False)


class ReasonSerializer(serializers.Serializer):
    reason = VisibleTextField(max_length=TEXT_MAX)


class EmptySerializer(serializers.Serializer):
    pass
