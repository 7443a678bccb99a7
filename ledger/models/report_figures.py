"""The transparency report's posted-work figures, stored where every app server reads them.

Derived data: `ledger/queries/report_cache.py` is their only reader and writer, checks them
against the ledger before each use, and rebuilds them when they do not match; emptying both
tables is always safe (the next report recomputes them).
"""

from django.conf import settings
from django.db import models

from .programs import Program


class ReportFigures(models.Model):
    """A program's merged figures (the sum of its artists' rows), exact at one chain head.

    `generation` grows by one at every store, so a refresher writes only over the state it
    started from (an UPDATE conditional on it); `seq`/`hash` name the head the figures are
    exact at, an entry of the history they came from (NULL: nothing stored).
    """

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    generation = models.BigIntegerField(default=0)
    seq = models.BigIntegerField(null=True)
    hash = models.CharField(max_length=64, blank=True)
    tally = models.TextField(blank=True)  # JSON, integers only (report_cache._Tally)

    def __str__(self):
        return f"{self.program_id}@{self.seq} (generation {self.generation})"


class ReportArtistFigures(models.Model):
    """One artist's posted-work figures in a program, exact at `version` of its payable's
    balance row; written only with a new generation of the program's `ReportFigures`."""

    # The unique constraint's index (program, artist) serves every read: no index of its own.
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+", db_index=False)
    artist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.BigIntegerField()
    figures = models.TextField()  # JSON, integers only: days histogram, hours, bugs, has work
    unpaid = models.TextField()  # JSON [[days since 1970-01-01, minor units], ...]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "artist"], name="report_artist_figures_unique"
            )
        ]

    def __str__(self):
        return f"{self.program_id}/{self.artist_id}@{self.version}"
