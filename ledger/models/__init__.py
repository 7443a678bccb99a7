"""The ledger's models: programs and their rate cards, contributions, payouts, the journal."""

from .audit import AuditEvent
from .contributions import Contribution, ContributionKind, ContributionStatus, Severity
from .invitations import Invitation, InvitationStatus
from .journal import Account, AccountBalance, AccountKind, Entry, EntryKind, LedgerHead, Posting
from .payouts import Payout, PayoutKind, PayoutStatus
from .programs import Membership, Program, RateCard, StaffRole, Totals

__all__ = [
    "Account",
    "AccountBalance",
    "AccountKind",
    "AuditEvent",
    "Contribution",
    "ContributionKind",
    "ContributionStatus",
    "Entry",
    "EntryKind",
    "Invitation",
    "InvitationStatus",
    "LedgerHead",
    "Membership",
    "Payout",
    "PayoutKind",
    "PayoutStatus",
    "Posting",
    "Program",
    "RateCard",
    "Severity",
    "StaffRole",
    "Totals",
]
