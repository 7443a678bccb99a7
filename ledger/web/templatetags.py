"""Template filters for the pages (loaded as `{% load ledger_web %}`)."""

from decimal import Decimal

from django import template

from ledger import money
from ledger.services.common import is_web_url as _is_web_url

register = template.Library()


@register.filter
def currency_amount(minor, currency):
    """Minor units shown with the currency's sign via Babel: `{{ x|currency_amount:"USD" }}`."""
    if minor is None or minor == "":
        return "—"
    return money.display(int(minor), currency)


@register.filter
def hours(value):
    return "—" if value is None else money.format_hours(value)


@register.filter
def percent(ratio):
    """A ratio Decimal such as 0.8125 as "81.3 %"; an em dash when there is none."""
    if ratio is None:
        return "—"
    return f"{(Decimal(ratio) * 100).quantize(Decimal('0.1'))} %"


@register.filter
def entry_kind(kind):
    """A ledger entry kind as words ("acceptance" → "Accepted work")."""
    from ledger.models import EntryKind

    try:
        return EntryKind(kind).label
    except ValueError:
        return kind


@register.filter
def is_web_url(text):
    """True for an absolute http(s) URL: only those are rendered as links (a stored
    `javascript:` or `data:` value shows as text, never as an href)."""
    return _is_web_url(text)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return "?" + params.urlencode()
