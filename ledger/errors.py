"""Domain errors raised by the services and translated once per interface (API, pages).

Each carries a stable `code` (the API's problem+json `code`) and, for input problems, the
field it concerns, so both interfaces can show the message beside the right field.
"""


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message or self.__doc__)
        self.message = message or (self.__doc__ or "").strip()
        self.field = field


class ValidationFailed(DomainError):
    """The input breaks a rule of the domain; nothing was written."""

    code = "validation_error"
    status = 400

    def __init__(self, errors: dict[str | None, str] | str, *, field: str | None = None):
        if isinstance(errors, str):
            errors = {field: errors}
        self.errors = errors
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)


class NotAMember(ValidationFailed):
    """The artist is not a member of the program."""


class NotAllowed(DomainError):
    """The actor's role may not do this."""

    code = "permission_denied"
    status = 403


class SeparationOfDuties(NotAllowed):
    """One person may not take both sides of a decision: review their own work, pay
    themselves, approve their own proposal. The API names it in `errors[0].code`."""

    detail_code = "separation_of_duties"


class InvalidTransition(DomainError):
    """The object is not in a state that allows this action."""

    code = "invalid_transition"
    status = 409


class InsufficientBalance(DomainError):
    """A settlement may not exceed what is outstanding."""

    code = "insufficient_balance"
    status = 409


class InvitationUnusable(DomainError):
    """This invitation link does not work: unknown, expired, revoked or already used.
    `reason` says which (`unknown`, `expired`, `revoked`, `accepted`)."""

    code = "invitation_unusable"
    status = 410

    def __init__(self, message: str = "", *, reason: str):
        super().__init__(message)
        self.reason = reason


class DisputeWindowClosed(DomainError):
    """The decision is older than the program's dispute window: it can no longer be
    disputed."""

    code = "dispute_window_closed"
    status = 409


class AlreadyDisputed(DomainError):
    """An open dispute about this subject already exists: one at a time."""

    code = "already_disputed"
    status = 409


class PaymentFileRefused(DomainError):
    """A payment file cannot be written: someone in the batch has no banking details on file,
    or the program has no paying account. `problems` lists every one as (field, message), so
    all of them are fixed at once; nobody is silently left out of a file."""

    code = "missing_bank_details"
    status = 409

    def __init__(self, message: str, *, problems: list[tuple[str, str]]):
        super().__init__(message)
        self.problems = problems


class EmptyBatch(DomainError):
    """No payouts of the program were paid that day: a payment file needs at least one
    transfer (the schema requires one)."""

    code = "empty_batch"
    status = 409
