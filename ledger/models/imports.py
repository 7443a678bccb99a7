"""Bulk imports of contributions from a CSV file: the job a worker runs, and the file it reads.

The file is kept in the database (`ImportChunk`, about 1 MiB a row), never on a local disk:
the request that receives it and the worker that reads it may run on different machines.
The chunks are deleted when the job ends; the job row, its counts and its errors stay.
"""

from django.conf import settings
from django.db import models

from ledger import access, clock

from .programs import Program

# The columns of the file, as the contract names them (any order).
IMPORT_COLUMNS = (
    "artist",
    "kind",
    "title",
    "occurred_on",
    "hours",
    "severity",
    "reference",
    "description",
)
IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 100_000
IMPORT_MAX_ERRORS = 1_000  # kept per job; `error_count` says how many there were in all
CHUNK_BYTES = 1024 * 1024


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED = (ImportStatus.SUCCEEDED, ImportStatus.FAILED)


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The imports of the programs `user` is staff of, and the ones it started."""
        return self.filter(access.scope_of(user).q(artist="created_by"))


class ImportJob(models.Model):
    """One upload: validated row by row, then written all at once (or not at all)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    dry_run = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)  # data rows, the header not counted
    processed_rows = models.PositiveIntegerField(default=0)
    # What the file would create and skip (known once every row is validated), then what the
    # import did create and skip (0 created for a dry run).
    would_create = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{row, field, message}], ≤ 1,000
    error_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker's claim: a job `running` past `claimed_until` lost its worker, and the sweep
    # hands it to another (at most `LEDGER_IMPORT_ATTEMPTS` times, then it fails).
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The dry run this import re-uses the file of (its chunks moved here), if any.
    source = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["program", "-created_at"], name="import_program_newest"),
            models.Index(
                fields=["status", "claimed_until"],
                condition=models.Q(status__in=["queued", "running"]),
                name="import_unfinished",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="import_status_valid",
            ),
        ]

    def __str__(self):
        return f"Import {self.pk} of {self.program_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def writing(self) -> bool:
        """Every row validated and the contributions being written (one transaction, so its
        progress is not visible until it commits)."""
        return (
            self.status == ImportStatus.RUNNING
            and not self.dry_run
            and self.total_rows > 0
            and self.processed_rows >= self.total_rows
        )

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class ImportChunk(models.Model):
    """About 1 MiB of an import's file, in order (`seq` from 0)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="import_chunk_seq"),
        ]

    def __str__(self):
        return f"Chunk {self.seq} of import {self.job_id}"
