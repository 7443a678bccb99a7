"""Parameters of the files for other tools."""

from rest_framework import serializers

from ..fields import (
    IdField,
    LedgerDateField,
)
from .common import QuerySerializer


class JournalExportQuerySerializer(QuerySerializer):
    program = IdField()
    format = serializers.ChoiceField(choices=["hledger", "beancount"])


class PayoutBatchQuerySerializer(QuerySerializer):
    program = IdField()
    paid_on = LedgerDateField()
    format = serializers.ChoiceField(
        choices=["csv", "pain.001"],
        default="csv",
        help_text="`csv` (default): one row per artist. `pain.001`: an ISO 20022 "
        "pain.001.001.09 SEPA credit transfer for the program's bank (EUR programs; the "
        "program's treasurers only).",
    )
