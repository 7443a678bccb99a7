"""Parameters of the files for other tools."""

from rest_framework import serializers

from ..fields import (
    IdField,
    LedgerDateField,
)


class JournalExportQuerySerializer(serializers.Serializer):
    program = IdField()
    format = serializers.ChoiceField(choices=["hledger", "beancount"])


class PayoutBatchQuerySerializer(serializers.Serializer):
    program = IdField()
    paid_on = LedgerDateField()
