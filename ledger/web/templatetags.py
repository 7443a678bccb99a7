"""Template filters for the pages (loaded as `{% load ledger_web %}`)."""

from decimal import Decimal

from django import template
from django.utils.html import format_html

from ledger import access, money
from ledger.errors import SeparationOfDuties
from ledger.services.common import is_web_url as _is_web_url

register = template.Library()


@register.filter
def currency_amount(minor, currency):
    """Minor units shown with the currency's sign via Babel: `{{ x|currency_amount:"USD" }}`."""
    if minor is None or minor == "":
        return "—"
    return money.display(int(minor), currency)


@register.filter
def outstanding(minor, currency):
    """What is still owed, never shown as a debt: an artist paid more than their valued work
    (grants ahead of work) is owed nothing and was "paid ahead of valued work" by the rest,
    the words of the transparency report. `{{ m.outstanding_minor|outstanding:cur }}`."""
    if minor is None or minor == "":
        return "—"
    minor = int(minor)
    if minor >= 0:
        return money.display(minor, currency)
    return format_html(
        '{}<small class="paid-ahead">{}</small>',
        money.display(0, currency),
        _paid_ahead(-minor, currency),
    )


@register.filter
@register.filter
def owed_sentence(minor, currency):
    """The same figure as a sentence, for a form that says what a payment meets:
    "$5.00 owed to the artist", "$5.00 paid ahead of valued work" or "Nothing owed"."""
    minor = int(minor)
    if minor > 0:
        return f"{money.display(minor, currency)} owed to the artist"
    if minor < 0:
        return _paid_ahead(-minor, currency)
    return "Nothing owed"


def _paid_ahead(minor: int, currency: str) -> str:
    """`minor` (> 0, minor units) paid beyond the valued work, in the report's words."""
    return f"{money.display(minor, currency)} paid ahead of valued work"


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


@register.simple_tag(takes_context=True)
def refusal(context, action, program_id, artist_id=None, proposer_id=None):
    """Why the signed-in user may not take `action` in the program on this subject, as the
    error the service would raise (show its `.message`), or None when it may:
    `{% refusal "review" c.program_id artist_id=c.artist_id as refused %}`. The answer is
    `ledger.access.refusal`'s, so a page offers a button exactly when the service accepts."""
    return access.refusal(
        context["request"].user,
        access.Action(action),
        program_id,
        artist_id=artist_id,
        proposer_id=proposer_id,
    )


@register.simple_tag(takes_context=True)
def can(context, action, program_id):
    """Whether the signed-in user's roles in the program allow `action` (`ledger.access.can`):
    `{% can "read" program.pk as staff_here %}`."""
    return access.can(context["request"].user, access.Action(action), program_id)


@register.filter
def is_separation(error):
    """Whether a refusal is separation of duties (the user's role allows the action, but not
    on its own work, pay or proposal): such a button is shown disabled beside its reason,
    where a refusal for want of the role replaces the button with the reason."""
    return isinstance(error, SeparationOfDuties)
