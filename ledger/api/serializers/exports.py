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
