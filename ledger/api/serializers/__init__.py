"""Request and response shapes, one module per resource. Inputs name their writable fields
explicitly (no status, value or artist where those are not the caller's to set); outputs render
money as strings. Lists and their details render rows (`common.RowSerializer`).
"""

from .auth import (
    ArtistCreateSerializer,
    ArtistSerializer,
    MeSerializer,
    TokenCreatedSerializer,
    TokenCreateSerializer,
    TokenSerializer,
    TokensRevokedSerializer,
)
from .common import (
    TEXT_MAX,
    EmptySerializer,
    ProgramArtistFilterSerializer,
    ReasonSerializer,
    RowSerializer,
    iso_date,
    timestamp,
)
from .contributions import (
    AcceptSerializer,
    ContributionCreateSerializer,
    ContributionFilterSerializer,
    ContributionSerializer,
)
from .exports import JournalExportQuerySerializer, PayoutBatchQuerySerializer
from .ledger import (
    BalanceSerializer,
    EntrySerializer,
    PostingSerializer,
    StatementCheckResultSerializer,
    StatementCheckSerializer,
    StatementLineSerializer,
    StatementQuerySerializer,
    StatementSerializer,
    VerifyQuerySerializer,
    VerifySerializer,
)
from .payouts import PayoutCreateSerializer, PayoutFilterSerializer, PayoutSerializer
from .programs import (
    BountiesInputSerializer,
    BountiesSerializer,
    MemberCreateSerializer,
    MemberSerializer,
    ProgramCreateSerializer,
    ProgramSerializer,
    RateCardCreateSerializer,
    RateCardSerializer,
    ReportSerializer,
)

__all__ = [
    "TEXT_MAX",
    "AcceptSerializer",
    "ArtistCreateSerializer",
    "ArtistSerializer",
    "BalanceSerializer",
    "BountiesInputSerializer",
    "BountiesSerializer",
    "ContributionCreateSerializer",
    "ContributionFilterSerializer",
    "ContributionSerializer",
    "EmptySerializer",
    "EntrySerializer",
    "JournalExportQuerySerializer",
    "MeSerializer",
    "MemberCreateSerializer",
    "MemberSerializer",
    "PayoutBatchQuerySerializer",
    "PayoutCreateSerializer",
    "PayoutFilterSerializer",
    "PayoutSerializer",
    "PostingSerializer",
    "ProgramArtistFilterSerializer",
    "ProgramCreateSerializer",
    "ProgramSerializer",
    "RateCardCreateSerializer",
    "RateCardSerializer",
    "ReasonSerializer",
    "ReportSerializer",
    "RowSerializer",
    "StatementCheckResultSerializer",
    "StatementCheckSerializer",
    "StatementLineSerializer",
    "StatementQuerySerializer",
    "StatementSerializer",
    "TokenCreateSerializer",
    "TokenCreatedSerializer",
    "TokenSerializer",
    "TokensRevokedSerializer",
    "VerifyQuerySerializer",
    "VerifySerializer",
    "iso_date",
    "timestamp",
]
