"""Forms: shape and parsing only. The rules live in the services; their errors come back here
through `apply_domain_error`, beside the field they concern."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.urls import reverse

from accounts.models import User
from ledger import access, banking, clock, mail, money
from ledger.errors import DomainError, ValidationFailed
from ledger.models import (
    ContributionKind,
    ContributionStatus,
    DisputeClaim,
    DisputeStatus,
    PayerAccount,
    PayoutKind,
    Program,
    Severity,
)
from ledger.models.programs import ProgramStatus
from ledger.params import parse_id
from ledger.ratelimit import over_limit
from ledger.services.common import is_web_url, require_not_too_early
from ledger.services.programs import DEADLINE_RANGE, DEADLINES
from ledger.webhooks.models import EVENT_TYPES as WEBHOOK_EVENTS


class DescribedBoundField(BoundField):
    """Points `aria-describedby` at the field's error message when it has one."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        ids = [f"{self.auto_id}_error"] if self.form.is_bound and self.errors else []
        # Then Django's own ids (help text, error) or the ones the widget declares, each once:
        # Django leaves out its help text id when a widget declares any.
        widget = widget or self.field.widget
        declared = attrs.get("aria-describedby") or widget.attrs.get("aria-describedby") or ""
        ids.extend(declared.split())
        if ids:
            attrs["aria-describedby"] = " ".join(dict.fromkeys(ids))
        return attrs


class Form(forms.Form):
    bound_field_class = DescribedBoundField
    # Domain error fields (API names) that this form shows under another field.
    field_aliases: dict[str, str] = {}


def apply_domain_error(form: Form, error: DomainError, *, default_field: str | None = None):
    """Show a service's error beside the form field it names (or above the form)."""
    items = error.errors.items() if isinstance(error, ValidationFailed) else [(error.field, None)]
    for field, message in items:
        name = form.field_aliases.get(field, field) or default_field
        if name not in form.fields:
            name = default_field if default_field in form.fields else None
        form.add_error(name, message or error.message)


class IdChoiceField(forms.ModelChoiceField):
    """A model choice whose posted value is parsed by `ledger.params.parse_id` first: "²" or a
    number beyond the database's integers is an invalid choice, never a database error."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_id(value)
        if number is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(number)


class LedgerDateField(forms.DateField):
    """A date filter no earlier than the ledger's floor (the rule's home is
    `services.common.require_not_too_early`; writes get it from the services)."""

    def validate(self, value):
        super().validate(value)
        try:
            require_not_too_early(value, "date")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code="too_early") from None


class DateInput(forms.DateInput):
    """An ISO date (YYYY-MM-DD) typed as text. Not `type="date"`: chromium's picker shows and
    edits dates in the browser locale's format (mm/dd/yyyy) while every page shows ISO dates."""

    input_type = "text"
    ISO_ATTRS = {
        "pattern": r"\d{4}-\d{2}-\d{2}",
        "placeholder": "YYYY-MM-DD",
        "inputmode": "numeric",
        "autocomplete": "off",
        "class": "iso-date",
    }

    def __init__(self, attrs=None):
        super().__init__(self.ISO_ATTRS | (attrs or {}), format="%Y-%m-%d")


def parse_money_field(form: Form, name: str, currency: str | None, *, allow_zero=False):
    """Parse a money string in `currency` into minor units, or add the error to the field."""
    raw = form.cleaned_data.get(name)
    if raw in (None, "") or currency is None:
        return None
    try:
        return money.parse_minor(raw.strip(), currency, allow_zero=allow_zero)
    except money.MoneyError as exc:
        form.add_error(name, str(exc))
        return None


# --- Contributions ------------------------------------------------------------------------


class ContributionForm(Form):
    """Fields common to both kinds of work. Admins log for a named member (`artist`)."""

    program = IdChoiceField(queryset=Program.objects.none(), empty_label=None)
    artist = IdChoiceField(queryset=User.objects.none(), required=False)
    title = forms.CharField(max_length=200)
    occurred_on = forms.DateField(
        label="Date of the work", widget=DateInput, help_text="Not in the future."
    )
    description = forms.CharField(
        max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["program"].queryset = Program.objects.visible_to(user).order_by("name")
        if access.is_staff(user):
            # Staff may log for the members they see (the service checks the role there).
            self.fields["artist"].queryset = User.objects.visible_to(user).order_by("username")
            self.fields["artist"].required = True
        else:
            del self.fields["artist"]
        self.fields["occurred_on"].initial = clock.today()


class FeedbackForm(ContributionForm):
    kind = ContributionKind.FEEDBACK
    hours = forms.CharField(
        max_length=6,
        help_text="More than 0, at most 24, up to 2 decimals (1.5 is an hour and a half).",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    field_order = ["program", "artist", "title", "occurred_on", "hours", "description"]

    def clean_hours(self):
        try:
            return money.parse_hours(self.cleaned_data["hours"].strip())
        except money.MoneyError as exc:
            raise forms.ValidationError(str(exc)) from None


class BugReportForm(ContributionForm):
    kind = ContributionKind.BUG_REPORT
    severity = forms.ChoiceField(choices=Severity.choices)
    # Plain text or an http(s) link: the service checks it (`check_reference`), as for the API.
    reference = forms.CharField(
        label="Reference",
        max_length=200,
        required=False,
        help_text="The issue in your tracker, if there is one: its key or an http(s) link.",
    )
    field_order = ["program", "artist", "title", "occurred_on", "severity", "reference"]

    def clean_reference(self):
        # A browser convenience kept from the link field this was: a bare web address
        # ("tracker.example.org/issues/12") gets https://; an issue key stays plain text.
        reference = self.cleaned_data["reference"].strip()
        if reference and ":" not in reference and is_web_url(f"https://{reference}"):
            return f"https://{reference}"
        return reference


class ContributionFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *ContributionStatus.choices], required=False
    )
    program = IdChoiceField(
        queryset=Program.objects.none(), required=False, empty_label="All programs"
    )
    overdue = forms.BooleanField(required=False, label="Only overdue for review")

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs


class QueueFilterForm(forms.Form):
    program = IdChoiceField(
        queryset=Program.objects.none(), required=False, empty_label="All programs"
    )
    kind = forms.ChoiceField(choices=[("", "All kinds"), *ContributionKind.choices], required=False)
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    overdue = forms.BooleanField(required=False, label="Only overdue")

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs


class CorrectionsForm(Form):
    """A reviewer's corrections to logged work, optional: `hours` (text, parsed as the API
    parses hours) and `severity`; empty means as logged (None). Accepting work and deciding
    a dispute about it take them alike."""

    def clean_hours(self):
        raw = self.cleaned_data["hours"].strip()
        if not raw:
            return None
        try:
            return money.parse_hours(raw)
        except money.MoneyError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_severity(self):
        return self.cleaned_data["severity"] or None


class AcceptForm(CorrectionsForm):
    hours = forms.CharField(
        max_length=6,
        required=False,
        label="Adjust hours",
        help_text="Leave empty to accept the hours as logged.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    severity = forms.ChoiceField(
        choices=[("", "As reported"), *Severity.choices], required=False, label="Adjust severity"
    )
    note = forms.CharField(
        max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, contribution, **kwargs):
        super().__init__(*args, **kwargs)
        if contribution.kind == ContributionKind.FEEDBACK:
            del self.fields["severity"]
        else:
            del self.fields["hours"]


class ReasonForm(Form):
    reason = forms.CharField(
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "A reason is required."},
    )


class DisputeForm(Form):
    """An artist's dispute: what is wrong with the decision, and a link to evidence."""

    statement = forms.CharField(
        max_length=10_000,
        label="What is wrong with the decision",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Say what is wrong with the decision."},
    )
    evidence_url = forms.CharField(
        max_length=2000,
        required=False,
        label="Link to evidence",
        help_text="An http(s) link: a screenshot, a bank statement, a ticket.",
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )


class DisputeFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *DisputeStatus.choices], required=False
    )
    program = IdChoiceField(
        queryset=Program.objects.none(), required=False, empty_label="All programs"
    )

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs


class DisputeDecisionForm(CorrectionsForm):
    """Uphold or dismiss: the note (required) and, to uphold a dispute about work, the hours
    or severity it is valued at (required for an undervalued claim, a correction for a
    wrongful rejection)."""

    note = forms.CharField(
        max_length=10_000,
        label="Decision note",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "A note saying why is required."},
    )
    hours = forms.CharField(
        max_length=6,
        required=False,
        label="Hours the work is worth",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    severity = forms.ChoiceField(
        choices=[("", "As reported"), *Severity.choices],
        required=False,
        label="Severity the report is worth",
    )

    def __init__(self, *args, dispute=None, with_valuation=False, **kwargs):
        super().__init__(*args, **kwargs)
        contribution = dispute.contribution if dispute is not None else None
        if not with_valuation or contribution is None:
            del self.fields["hours"], self.fields["severity"]
            return
        if contribution.kind == ContributionKind.FEEDBACK:
            del self.fields["severity"]
            field = self.fields["hours"]
            field.help_text = f"Logged: {money.format_hours(contribution.hours)} h."
        else:
            del self.fields["hours"]
            field = self.fields["severity"]
            field.help_text = f"Logged: {contribution.get_severity_display().lower()}."
        if dispute.claim == DisputeClaim.VALUATION:
            field.required = True
            field.help_text += " Required: it must be worth more than its current value."
            if "severity" in self.fields:
                self.fields["severity"].choices = Severity.choices
        else:
            field.help_text += " Leave empty to accept it as logged."


class BulkAcceptForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], label="Contributions")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id may be posted; the view looks each up among submitted work.
        values = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(v, v) for v in values if parse_id(v)]
        self.fields["ids"].error_messages["required"] = "Select at least one contribution."


# --- Statements ---------------------------------------------------------------------------


class StatementFilterForm(forms.Form):
    date_from = LedgerDateField(label="From", required=False, widget=DateInput)
    date_to = LedgerDateField(label="To", required=False, widget=DateInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end of the period is before its start.")
        return data


# --- Payouts ------------------------------------------------------------------------------


def readable_programs(user, action=access.Action.READ):
    """The programs where `user` may take `action` as staff (`access.programs_where`); by
    default those whose books it reads."""
    ids = access.programs_where(user, action)
    return Program.objects.all() if ids is None else Program.objects.filter(pk__in=sorted(ids))


_BANK_ATTRS = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}


class PayoutBatchForm(Form):
    """Which batch to download: a program's payouts on one day, as CSV or as a pain.001 file
    for the bank."""

    program = IdChoiceField(queryset=Program.objects.none())
    paid_on = LedgerDateField(label="Paid on", widget=DateInput)
    format = forms.ChoiceField(
        choices=[
            ("csv", "CSV: one row per artist, for a payment tool"),
            ("pain.001", "pain.001 (SEPA credit transfer) for the bank: EUR programs, treasurers"),
        ],
        initial="csv",
        required=False,
        widget=forms.RadioSelect,
        label="Format",
    )

    def clean_format(self):
        return self.cleaned_data.get("format") or "csv"

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = readable_programs(user).order_by("name")


class PayoutForm(Form):
    """A payment to record: `programs` are those the user pays in, the artists those it sees."""

    program = IdChoiceField(queryset=Program.objects.none())
    artist = IdChoiceField(queryset=User.objects.none())
    kind = forms.ChoiceField(
        choices=PayoutKind.choices,
        widget=forms.RadioSelect,
        help_text="A grant may exceed what is owed; a settlement may not.",
    )
    amount = forms.CharField(
        max_length=30,
        help_text="In the program's currency, e.g. 125.50.",
        widget=forms.TextInput(
            attrs={
                "inputmode": "decimal",
                "autocomplete": "off",
                # What is owed now (the page's #owed-text) is read out with the amount.
                "aria-describedby": "id_amount_helptext owed-text",
            }
        ),
    )
    paid_on = forms.DateField(label="Paid on", widget=DateInput)
    method = forms.CharField(max_length=200, required=False, help_text="e.g. bank transfer")
    reference = forms.CharField(max_length=200, required=False)
    note = forms.CharField(
        max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs
        self.fields["artist"].queryset = (
            User.objects.visible_to(user).filter(is_active=True).order_by("username")
        )
        self.fields["paid_on"].initial = clock.today()

    def clean(self):
        data = super().clean()
        program = data.get("program")
        data["amount_minor"] = parse_money_field(
            self, "amount", program.currency if program else None
        )
        return data


# --- Programs, rate cards, members --------------------------------------------------------


class ProgramForm(Form):
    name = forms.CharField(max_length=200)
    currency = forms.ChoiceField(
        choices=money.CURRENCY_CHOICES, initial="USD", help_text="ISO 4217; fixed for good."
    )
    description = forms.CharField(
        max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    public = forms.BooleanField(
        required=False,
        label="Public transparency page",
        help_text="Anyone may read the program's totals (never artist identities).",
    )


class RateCardForm(Form):
    field_aliases = {
        "hourly_rate": "hourly_rate",
        **{f"bug_bounties.{s}": f"bounty_{s}" for s in Severity.values},
    }

    effective_from = forms.DateField(label="Effective from", widget=DateInput)
    hourly_rate = forms.CharField(max_length=30, label="Hourly rate")
    bounty_low = forms.CharField(max_length=30, label="Bounty: low")
    bounty_medium = forms.CharField(max_length=30, label="Bounty: medium")
    bounty_high = forms.CharField(max_length=30, label="Bounty: high")
    bounty_critical = forms.CharField(max_length=30, label="Bounty: critical")

    def __init__(self, *args, program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program
        self.fields["effective_from"].initial = clock.today()
        for name, f in self.fields.items():
            if name != "effective_from":
                f.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})
                f.help_text = f"{program.currency}"

    def clean(self):
        data = super().clean()
        for name in ["hourly_rate", *(f"bounty_{s}" for s in Severity.values)]:
            data[f"{name}_minor"] = parse_money_field(
                self, name, self.program.currency, allow_zero=True
            )
        return data


class EnrollForm(Form):
    """Enrol someone `user` already sees (`User.objects.visible_to`: a member of, or
    someone who accepted an invitation to, one of its programs) and who is not a member yet;
    anyone else joins by invitation."""

    artist = IdChoiceField(queryset=User.objects.none(), empty_label="Choose an artist")

    def __init__(self, *args, program, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["artist"].queryset = (
            User.objects.visible_to(user)
            .filter(is_active=True, is_superuser=False)
            .exclude(memberships__program=program)
            .order_by("username")
        )


class ProgramSettingsForm(Form):
    """What a manager may change on a program; the currency never changes (shown, not a
    field). The threshold is a money string in the program's currency, empty for none."""

    field_aliases = {"approval_threshold_minor": "approval_threshold"}
    DEADLINE_SETTINGS = (*DEADLINES, "auto_accept_overdue")

    name = ProgramForm.base_fields["name"]
    description = ProgramForm.base_fields["description"]
    public = ProgramForm.base_fields["public"]
    status = forms.ChoiceField(
        choices=ProgramStatus.choices,
        help_text="A closed program accepts no new work; it still reviews and pays.",
    )
    approval_threshold = forms.CharField(
        max_length=30,
        required=False,
        label="Approval threshold",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    review_within_days = forms.IntegerField(
        min_value=DEADLINE_RANGE[0],
        max_value=DEADLINE_RANGE[1],
        label="Review within (days)",
        help_text="Work is due for review this many days after it was submitted; the due "
        "date of work already waiting moves with it.",
    )
    pay_within_days = forms.IntegerField(
        min_value=DEADLINE_RANGE[0],
        max_value=DEADLINE_RANGE[1],
        label="Pay within (days)",
        help_text="Accepted work still unpaid this many days after its acceptance is overdue.",
    )
    dispute_window_days = forms.IntegerField(
        min_value=DEADLINE_RANGE[0],
        max_value=DEADLINE_RANGE[1],
        label="Dispute window (days)",
        help_text="A decision may be disputed for this many days after it was made.",
    )
    auto_accept_overdue = forms.BooleanField(
        required=False,
        label="Accept work left unreviewed past its due date",
        help_text="The system accepts it, valued at the rate card, and says so in its "
        "history: silence counts as acceptance, never as rejection.",
    )

    payer_name = forms.CharField(
        max_length=70,
        required=False,
        label="Paying account holder",
        help_text="As the bank knows it: the payer of the payment files (pain.001).",
    )
    payer_iban = forms.CharField(
        max_length=64,
        required=False,
        label="Paying account IBAN",
        widget=forms.TextInput(attrs=_BANK_ATTRS),
    )
    payer_bic = forms.CharField(
        max_length=64,
        required=False,
        label="Paying account BIC",
        widget=forms.TextInput(attrs=_BANK_ATTRS),
        help_text="Left empty, it is taken from the IBAN when known.",
    )
    payer_remove = forms.BooleanField(
        required=False,
        label="Remove the paying account",
        help_text="No payment file can be written without one.",
    )

    def __init__(self, *args, program, **kwargs):
        threshold = program.approval_threshold_minor
        kwargs.setdefault(
            "initial",
            {
                "name": program.name,
                "description": program.description,
                "public": program.public,
                "status": program.status,
                "approval_threshold": ""
                if threshold is None
                else money.format_minor(threshold, program.currency),
            }
            | {name: getattr(program, name) for name in self.DEADLINE_SETTINGS},
        )
        self.payer = PayerAccount.objects.filter(program_id=program.pk).first()
        kwargs["initial"] |= {
            "payer_name": self.payer.name if self.payer else "",
            "payer_bic": self.payer.bic if self.payer else "",
        }
        super().__init__(*args, **kwargs)
        self.program = program
        self.fields["payer_iban"].help_text = (
            f"On file: {banking.mask(self.payer.iban)}. Leave empty to keep it."
            if self.payer
            else "None on file: payment files need one (EUR programs)."
        )
        if self.payer is None:
            del self.fields["payer_remove"]
        self.fields["approval_threshold"].help_text = (
            f"In {program.currency}. Payouts of this amount or more need a second treasurer's "
            "approval; leave empty so that none does."
        )

    def clean(self):
        data = super().clean()
        data["approval_threshold_minor"] = parse_money_field(
            self, "approval_threshold", self.program.currency
        )
        return data

    def changes(self) -> dict:
        """The settings as `services.update_program` takes them."""
        data = self.cleaned_data
        return (
            {
                "name": data["name"],
                "description": data["description"],
                "public": data["public"],
                "status": data["status"],
                "approval_threshold_minor": data["approval_threshold_minor"],
            }
            | {name: data[name] for name in self.DEADLINE_SETTINGS}
            | self.payer_changes()
        )

    def payer_changes(self) -> dict:
        """The paying account's fields that changed (none: the account is left alone)."""
        data = self.cleaned_data
        if data.get("payer_remove"):
            return {"payer_iban": ""}
        changes = {}
        if data["payer_iban"]:
            changes["payer_iban"] = data["payer_iban"]
        if data["payer_name"] != (self.payer.name if self.payer else ""):
            changes["payer_name"] = data["payer_name"]
        if data["payer_bic"] != (self.payer.bic if self.payer else ""):
            changes["payer_bic"] = data["payer_bic"]
        return changes


class BankDetailsForm(Form):
    """Where the person is paid. Never prefilled: what is on file is shown masked beside the
    fields, and the whole value never returns to the browser."""

    iban = forms.CharField(
        max_length=64,
        required=False,
        label="IBAN",
        widget=forms.TextInput(attrs=_BANK_ATTRS),
        help_text="Spaces and case do not matter, e.g. DE89 3704 0044 0532 0130 00.",
    )
    bic = forms.CharField(
        max_length=64,
        required=False,
        label="BIC",
        widget=forms.TextInput(attrs=_BANK_ATTRS),
        help_text="Your bank's code, 8 or 11 characters. Left empty, it is taken from the IBAN "
        "when known.",
    )

    def __init__(self, *args, on_file=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_file = on_file
        # Required until an IBAN is on file; then a BIC alone may change.
        self.fields["iban"].required = on_file is None
        self.fields["iban"].error_messages["required"] = "Enter your IBAN."

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("iban") and not data.get("bic"):
            self.add_error("iban", "Enter a new IBAN or BIC (or remove your details below).")
        return data

    def changes(self) -> dict:
        """As `services.set_bank_details` takes them: a BIC alone keeps the IBAN on file; an
        IBAN alone takes the BIC derived from it."""
        data = self.cleaned_data
        if data["iban"]:
            return {"iban": data["iban"], "bic": data["bic"]}
        return {"bic": data["bic"]}


class StaffGrantForm(Form):
    """A role to give: to one of the people the manager sees (members of its programs; an
    operator sees everyone)."""

    user = IdChoiceField(
        queryset=User.objects.none(), empty_label="Choose a person", label="Person"
    )
    role = forms.ChoiceField(
        # No role is preselected: granting one (a manager's, above all) is a choice made.
        choices=[("", "Choose a role"), *((r.value, r.value.capitalize()) for r in access.ROLES)],
        help_text="Manager: settings, rate cards, members and staff. Reviewer: accepts, rejects "
        "and reverses work. Treasurer: records, approves and voids payouts. Auditor: reads "
        "everything, writes nothing.",
    )

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            User.objects.visible_to(manager).filter(is_active=True).order_by("username")
        )


# --- Invitations and joining -------------------------------------------------------------


ROLE_CHOICES = [("", "Member (artist)"), *((r.value, r.value.title()) for r in access.ROLES)]


class InvitationForm(Form):
    email = forms.EmailField(max_length=254)
    display_name = forms.CharField(
        max_length=200, required=False, help_text="How the program will show them."
    )
    role = forms.ChoiceField(
        choices=ROLE_CHOICES,
        required=False,
        label="Joins as",
        help_text="A member logs work; staff roles review, pay, manage or audit the program.",
    )


class JoinSignInForm(AuthenticationForm):
    """Sign in with an existing login to accept an invitation (Django's login form: the
    lockout counts its failures like the sign-in page's)."""

    bound_field_class = DescribedBoundField


class JoinSignUpForm(Form):
    """Create a login to accept an invitation. The password passes Django's validators
    (AUTH_PASSWORD_VALIDATORS); errors show beside their fields."""

    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    display_name = forms.CharField(
        max_length=200, required=False, help_text="Your name as the program shows it."
    )
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common, all-digit or username-like password.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self):
        username = User.normalize_username(self.cleaned_data["username"])
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("This username is taken.", code="taken")
        return username

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        if first:
            candidate = User(
                username=data.get("username") or "",
                email=data.get("email") or "",
                display_name=data.get("display_name") or "",
            )
            try:
                password_validation.validate_password(first, user=candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's "forgot password" form, its message sent through `ledger.mail` like every
    other (after commit, a dead mail server logged, the link on `LEDGER_SITE_URL`)."""

    bound_field_class = DescribedBoundField

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        link = mail.site_url(
            reverse(
                "password_reset_confirm",
                kwargs={"uidb64": context["uid"], "token": context["token"]},
            )
        )
        days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
        subject, body = mail.render(
            email_template_name, {"user": context["user"], "link": link, "days": days}
        )
        # Each address gets a few reset links an hour, whoever asks for them: the form
        # cannot be used to flood someone's mailbox. Silently: the page must not differ.
        if not over_limit(
            "password-reset-to", to_email.lower(), settings.LEDGER_PASSWORD_RESETS_PER_HOUR
        ):
            mail.send(to=to_email, subject=subject, body=body)


# --- Tokens -------------------------------------------------------------------------------


class TokenForm(Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “tracker sync”.")


# --- Notifications ------------------------------------------------------------------------


class PreferencesForm(Form):
    email_notifications = forms.BooleanField(
        required=False,
        label="Email me my notifications",
        help_text="Reviews, payments, disputes and reminders. The inbox keeps them either way.",
    )


# --- Second factor ------------------------------------------------------------------------

_CODE_ATTRS = {"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}


class CodeForm(Form):
    """A code at the sign-in's second step or to turn the factor off: from the authenticator
    app, or one of the recovery codes."""

    code = forms.CharField(
        max_length=64,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(attrs=_CODE_ATTRS),
    )


class EnrolCodeForm(Form):
    """The first code from a newly set-up authenticator app, which confirms it."""

    code = forms.RegexField(
        regex=r"^\s*\d{3}[\s-]?\d{3}\s*$",
        max_length=16,
        label="Code from your app",
        help_text="The 6 digits your authenticator app shows for this account now.",
        error_messages={"invalid": "Enter the 6 digits your app shows."},
        widget=forms.TextInput(attrs=_CODE_ATTRS | {"inputmode": "numeric"}),
    )


class ImportForm(Form):
    """A bulk import's upload (`services.imports.start_import`): a dry run unless unticked."""

    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, at most 10 MiB and 100,000 rows, with the template's header.",
    )
    dry_run = forms.BooleanField(
        label="Dry run: check every row, write nothing", required=False, initial=True
    )


# --- Webhooks -----------------------------------------------------------------------------


class WebhookForm(Form):
    """A receiver to subscribe to a program's events (`services.create_subscription` checks
    the address and the events, and names the field it refuses)."""

    url = forms.CharField(
        max_length=2000,
        label="Receiver URL",
        help_text="An https:// address on the internet (not a private or local one).",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in WEBHOOK_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        help_text="What the receiver is told about.",
        error_messages={"required": "Choose at least one event."},
    )
    description = forms.CharField(max_length=200, required=False)
