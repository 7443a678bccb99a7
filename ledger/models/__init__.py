"""The ledger's models: programs and their rate cards, contributions, payouts, the journal."""

from .audit import AuditEvent
from .contributions import Contribution, ContributionKind, ContributionStatus, Severity
from .disputes import CLAIMS_OF, Dispute, DisputeClaim, DisputeStatus, DisputeSubject
from .imports import ImportChunk, ImportJob, ImportStatus
from .invitations import Invitation, InvitationStatus
from .journal import Account, AccountBalance, AccountKind, Entry, EntryKind, LedgerHead, Posting
from .notifications import Notification, NotificationKind
from .payouts import Acknowledgement, Payout, PayoutKind, PayoutStatus
from .programs import Membership, PayerAccount, Program, RateCard, StaffRole, Totals
from .report_figures import ReportArtistFigures, ReportFigures

__all__ = [
    "CLAIMS_OF",
    "Account",
    "AccountBalance",
    "AccountKind",
    "Acknowledgement",
    "AuditEvent",
    "Contribution",
    "ContributionKind",
    "ContributionStatus",
    "Dispute",
    "DisputeClaim",
    "DisputeStatus",
    "DisputeSubject",
    "Entry",
    "EntryKind",
    "ImportChunk",
    "ImportJob",
    "ImportStatus",
    "Invitation",
    "InvitationStatus",
    "LedgerHead",
    "Membership",
    "Notification",
    "NotificationKind",
    "PayerAccount",
    "Payout",
    "PayoutKind",
    "PayoutStatus",
    "Posting",
    "Program",
    "RateCard",
    "ReportArtistFigures",
    "ReportFigures",
    "Severity",
    "StaffRole",
    "Totals",
]
