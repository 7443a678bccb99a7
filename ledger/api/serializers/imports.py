"""Bulk imports: the upload, and the job it starts (what the caller polls)."""

from rest_framework import serializers

from ledger.models import ImportJob, ImportStatus
from ledger.models.imports import IMPORT_COLUMNS


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A CSV file, UTF-8 (with or without a byte order mark), at most 10 MiB and "
        f"100,000 rows, with the header `{','.join(IMPORT_COLUMNS)}` (any order). `artist` "
        "is a member's username or email.",
    )
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="`true`: check every row and count what would be created and skipped, "
        "writing nothing.",
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True,
        help_text="The row as a spreadsheet numbers it: the header is row 1, the first data "
        "row 2. Null: the import as a whole (its worker kept stopping).",
    )
    field = serializers.ChoiceField(
        choices=[(name, name) for name in IMPORT_COLUMNS],
        allow_null=True,
        help_text="The column; null for the row as a whole (too many values, unreadable).",
    )
    message = serializers.CharField()


class ImportJobSummarySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=ImportStatus.choices,
        read_only=True,
        help_text="`queued` → `running` → `succeeded` | `failed`.",
    )
    would_create = serializers.IntegerField(
        read_only=True,
        help_text="Rows the file would create, once every row is checked (a dry run's "
        "answer; for an import, what it is writing).",
    )
    skipped = serializers.IntegerField(
        read_only=True,
        help_text="Rows skipped: their `reference` already exists for the same artist and "
        "program, or repeats an earlier row of the file (a dry run: would be skipped).",
    )
    error_count = serializers.IntegerField(
        read_only=True, help_text="Errors found in all; `errors` lists the first 1,000."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "program",
            "status",
            "dry_run",
            "file_name",
            "total_rows",
            "processed_rows",
            "would_create",
            "created",
            "skipped",
            "error_count",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportJobSerializer(ImportJobSummarySerializer):
    errors = ImportErrorSerializer(
        many=True,
        read_only=True,
        help_text="Every bad row and field (the first 1,000), in file order; empty unless "
        "`failed`.",
    )

    class Meta(ImportJobSummarySerializer.Meta):
        fields = [
            *ImportJobSummarySerializer.Meta.fields[:11],
            "errors",
            *ImportJobSummarySerializer.Meta.fields[11:],
        ]
        read_only_fields = fields
