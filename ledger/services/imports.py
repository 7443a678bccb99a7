"""Bulk import of contributions from a CSV file, as a background job.

    start_import ──(request)──▶ queued ──claim──▶ running: validate every row ──▶ failed
                                  ▲                 │ (progress committed      (every bad row,
                                  │                 │  every 1,000 rows)        nothing written)
                  sweep: lost ────┘                 ├──▶ dry run: succeeded (nothing written)
                  or lapsed claim                   └──▶ write, one transaction ──▶ succeeded

- The file is read with the standard library's `csv` module, streamed from the database one
  chunk at a time through a UTF-8 decoder (`_records`): no dependency, one row in memory at a
  time, and exact control over row numbers (a spreadsheet's: the header is row 1) and over
  what each error says. (tablib, under django-import-export, loads the whole dataset first.)
- Every row passes the rules a single submission passes (`contributions.check_work`, the
  artist a member, a rate card in effect), in `_check_row`, in both passes: the validation
  pass reports every bad row (up to `IMPORT_MAX_ERRORS`), the write pass re-reads the rows and
  fails the whole import should one have gone bad in between (a membership revoked).
- All or nothing: the write pass is one transaction. It holds a PostgreSQL advisory lock per
  program (`_IMPORT_LOCK`), so two imports of one program write one after the other and the
  second skips what the first wrote; the lock conflicts with nothing else, so reviews and
  payouts (the `LedgerHead` row, the contribution rows) go on meanwhile. Like a submission it
  reads the deadline under a SHARE lock of the program row (`review_within_days`): a manager
  changing the deadline waits for the import to commit (seconds), and submissions do not.
- A row whose reference the artist already has in the program (any status), or that repeats
  an earlier row of the file, is skipped: re-importing a file writes nothing new. Rows
  without a reference are always created.
- A worker claims the job with one conditional UPDATE and a lease (`claimed_until`), renewed
  with each progress update; the sweep (`LEDGER_SCHEDULE`) re-enqueues a job queued with no
  task seen or whose claim lapsed (its worker died: the write transaction rolled back), and
  after `LEDGER_IMPORT_ATTEMPTS` claims marks it failed.
- Nobody is notified per row (the artists' work arrives `submitted`, as if logged for them),
  and the notification kinds have none for an import: the importer follows the job's page.
"""

import csv
import datetime as dt
import functools
import io
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from ledger import access, clock, money
from ledger.background import workers
from ledger.errors import DomainError, ValidationFailed
from ledger.models import Contribution, ImportChunk, ImportJob, ImportStatus, Membership, RateCard
from ledger.models.imports import (
    CHUNK_BYTES,
    FINISHED,
    IMPORT_COLUMNS,
    IMPORT_MAX_BYTES,
    IMPORT_MAX_ERRORS,
    IMPORT_MAX_ROWS,
)
from ledger.models.programs import ProgramStatus

from . import audit
from .contributions import check_work, submit_many
from .review_due import review_within_days

logger = logging.getLogger("ledger.background")

BATCH_ROWS = 1_000  # rows per progress update, per reference probe and per insert
# pg_advisory_xact_lock(class, program): the class keeps these locks apart from any other use.
_IMPORT_LOCK = 0x1D0C
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NOT_DECODED = re.compile("[\udc80-\udcff]")  # bytes the UTF-8 decoder could not read


class FileTooLarge(ValidationFailed):
    """The file is over the import's limits (10 MiB, 100,000 rows)."""

    code = "payload_too_large"
    status = 413


class _LostClaim(Exception):
    """Another worker holds the job now (this one's claim lapsed): stop, change nothing."""


class _Invalid(Exception):
    """Rows broke the rules in the write pass: roll it back and fail the job with them."""

    def __init__(self, errors, count):
        super().__init__(f"{count} bad rows")
        self.errors, self.count = errors, count


# ---------------------------------------------------------------------------- the request


def start_import(*, actor, program, upload, dry_run: bool = True) -> ImportJob:
    """Store an uploaded CSV file and queue its import (a dry run unless told otherwise).

    `upload` is Django's `UploadedFile`. Checked here: the role (a reviewer or manager logs
    work for others), the program open, the file's size and its number of rows (413 beyond
    10 MiB or 100,000 rows, counted without keeping the rows). Everything else is the
    worker's, which reports every bad row.
    """
    access.require(actor, access.Action.LOG_FOR_OTHERS, program.pk)
    _require_open(program)
    if upload.size > IMPORT_MAX_BYTES:
        raise FileTooLarge("The file is larger than 10 MiB; split it.", field="file")
    upload.seek(0)
    rows = count_rows(upload.chunks(CHUNK_BYTES))
    if rows > IMPORT_MAX_ROWS:
        raise FileTooLarge(
            f"The file has more than {IMPORT_MAX_ROWS:,} rows; split it.", field="file"
        )
    with transaction.atomic():
        job = ImportJob.objects.create(
            program=program,
            created_by=actor,
            dry_run=dry_run,
            file_name=(upload.name or "")[:200],
            file_size=upload.size,
            total_rows=rows,
        )
        upload.seek(0)
        for seq, data in enumerate(upload.chunks(CHUNK_BYTES)):
            ImportChunk.objects.create(job=job, seq=seq, data=data)
        audit.record(actor=actor, action="import.start", obj=job, program=program, dry_run=dry_run)
        transaction.on_commit(functools.partial(enqueue, job.pk), robust=True)
    return job


def import_for_real(*, actor, dry_run: ImportJob) -> ImportJob:
    """Queue the import of the file a successful dry run checked, without uploading it again:
    its chunks move to the new job (so one dry run starts one import). The rows are checked
    again: the program may have changed since."""
    access.require(actor, access.Action.LOG_FOR_OTHERS, dry_run.program_id)
    _require_open(dry_run.program)
    with transaction.atomic():
        source = ImportJob.objects.select_for_update().get(pk=dry_run.pk)
        if not can_import_for_real(source):
            raise ValidationFailed(
                "Only a successful dry run whose file is still kept can be imported; "
                "upload the file again.",
                field="file",
            )
        job = ImportJob.objects.create(
            program=source.program,
            created_by=actor,
            dry_run=False,
            file_name=source.file_name,
            file_size=source.file_size,
            total_rows=source.total_rows,
            source=source,
        )
        ImportChunk.objects.filter(job=source).update(job=job)
        audit.record(
            actor=actor, action="import.start", obj=job, program=source.program, dry_run=False
        )
        transaction.on_commit(functools.partial(enqueue, job.pk), robust=True)
    return job


def can_import_for_real(job: ImportJob) -> bool:
    """A successful dry run whose file is still kept (not yet imported, not yet forgotten)."""
    return (
        job.dry_run
        and job.status == ImportStatus.SUCCEEDED
        and ImportChunk.objects.filter(job=job).exists()
    )


def _require_open(program) -> None:
    if program.status == ProgramStatus.CLOSED:
        raise ValidationFailed("This program is closed to new work.", field="program")


def count_rows(chunks) -> int:
    """The data rows of a CSV file given as byte chunks (blank lines and the header not
    counted), reading no further than one past the limit. Undecodable bytes count as text
    here; the worker reports them."""
    rows = -1  # the header
    try:
        for record in _records(chunks, errors="replace"):
            if not _blank(record):
                rows += 1
                if rows > IMPORT_MAX_ROWS:
                    break
    except csv.Error:
        pass  # the worker names the row
    return max(rows, 0)


# ---------------------------------------------------------------------------- reading


class _ChunkReader(io.RawIOBase):
    """Bytes from an iterator of byte strings, as a raw stream (for `io.TextIOWrapper`)."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._view = memoryview(b"")

    def readable(self):
        return True

    def readinto(self, buffer):
        while not len(self._view):
            data = next(self._chunks, None)
            if data is None:
                return 0
            self._view = memoryview(bytes(data))
        size = min(len(buffer), len(self._view))
        buffer[:size] = self._view[:size]
        self._view = self._view[size:]
        return size


def _records(chunks, errors="surrogateescape"):
    """The CSV records of a file given as byte chunks: UTF-8, with or without a BOM, any
    line ending, quoted fields across lines."""
    text = io.TextIOWrapper(
        io.BufferedReader(_ChunkReader(chunks), 1 << 16),
        encoding="utf-8-sig",
        # Bytes that are not UTF-8 become lone surrogates, found and named per field by
        # `_check_row`: a strict decoder fails a whole block, not the row that holds them.
        errors=errors,
        newline="",
    )
    return csv.reader(text, strict=True)


def stored_chunks(job_id: int):
    """The job's file from the database, one chunk (about 1 MiB) in memory at a time."""
    seq = 0
    while True:
        data = (
            ImportChunk.objects.filter(job_id=job_id, seq=seq)
            .values_list("data", flat=True)
            .first()
        )
        if data is None:
            return
        yield data
        seq += 1


# ---------------------------------------------------------------------------- the rules per row


@dataclass
class _Row:
    number: int
    artist_id: int
    fields: dict
    estimate: int

    @property
    def key(self):
        return (self.artist_id, self.fields["reference"])


class _Context:
    """What checking a row needs, read once per pass: the program's members by username and
    by email (case-insensitive), and its rate cards."""

    AMBIGUOUS = -1

    def __init__(self, program):
        self.program = program
        self.by_username, self.by_email = {}, {}
        for artist_id, username, email in Membership.objects.filter(program=program).values_list(
            "artist_id", "artist__username", "artist__email"
        ):
            self.by_username[username] = artist_id
            if email:
                key = email.casefold()
                known = self.by_email.get(key)
                self.by_email[key] = artist_id if known in (None, artist_id) else self.AMBIGUOUS
        self.card_on = RateCard.objects.timeline(program.pk)

    def artist(self, name: str) -> int:
        artist_id = self.by_username.get(name)
        if artist_id is None:
            artist_id = self.by_email.get(name.casefold())
        if artist_id == self.AMBIGUOUS:
            raise ValidationFailed(
                "Several members have this email; name the artist by username.", field="artist"
            )
        if artist_id is None:
            raise ValidationFailed(
                "No member of this program has this username or email.", field="artist"
            )
        return artist_id


def _check_header(record) -> tuple[dict[str, int], list[dict]]:
    names = [name.strip().casefold() for name in record]
    if any("\x00" in name or _NOT_DECODED.search(name) for name in names):
        # Not shown back: neither can be stored in the job's errors (JSON).
        return {}, [_error(1, None, _NOT_UTF8)]
    errors = []
    seen = set()
    for name in names:
        if name not in IMPORT_COLUMNS:
            errors.append(_error(1, name or None, f"Unknown column “{name}”; {_COLUMNS_ARE}"))
        elif name in seen:
            errors.append(_error(1, name, f"The column “{name}” appears twice."))
        seen.add(name)
    for name in IMPORT_COLUMNS:
        if name not in seen:
            errors.append(_error(1, name, f"The column “{name}” is missing; {_COLUMNS_ARE}"))
    return {name: at for at, name in enumerate(names)}, errors


_COLUMNS_ARE = f"the columns are {', '.join(IMPORT_COLUMNS)}."


def _error(row, field, message) -> dict:
    return {"row": row, "field": field, "message": message}


def _check_row(number: int, record: list[str], columns: dict, context: _Context):
    """One data row against the rules a submission passes: the row, or its errors (every
    field's)."""
    if len(record) != len(columns):
        return None, [
            _error(
                number, None, f"This row has {len(record)} values; the header has {len(columns)}."
            )
        ]
    values = {name: record[at] for name, at in columns.items()}
    errors: list[dict] = []
    unread = set()
    for name, value in values.items():
        if "\x00" in value:
            errors.append(_error(number, name, "Null characters are not allowed."))
            unread.add(name)
        elif not value.isascii() and _NOT_DECODED.search(value):
            errors.append(_error(number, name, _NOT_UTF8))
            unread.add(name)
    if errors:
        return None, errors
    artist_id = None
    try:
        artist_id = context.artist(values["artist"].strip())
    except ValidationFailed as error:
        errors.append(_error(number, "artist", error.message))
    occurred_on = None
    day = values["occurred_on"].strip()
    try:
        if not _DATE.fullmatch(day):
            raise ValueError
        occurred_on = dt.date.fromisoformat(day)
    except ValueError:
        errors.append(_error(number, "occurred_on", "Give the date as YYYY-MM-DD."))
        unread.add("occurred_on")
    hours = None
    if values["hours"].strip():
        try:
            hours = money.parse_hours(values["hours"].strip())
        except money.MoneyError as error:
            errors.append(_error(number, "hours", str(error)))
            unread.add("hours")
    fields, problems = check_work(
        kind=values["kind"].strip(),
        title=values["title"],
        occurred_on=occurred_on,
        hours=hours,
        severity=values["severity"].strip() or None,
        reference=values["reference"],
        description=values["description"],
        unread=frozenset(unread),
    )
    errors.extend(_error(number, problem.field, problem.message) for problem in problems)
    estimate = 0
    if occurred_on is not None and not any(e["field"] == "occurred_on" for e in errors):
        card = context.card_on(occurred_on)
        if card is None:
            errors.append(_error(number, "occurred_on", "No rate card is in effect on this date."))
        elif not errors:
            estimate = card.value_of(
                kind=fields["kind"], hours=fields["hours"], severity=fields["severity"]
            )
    if errors:
        return None, sorted(errors, key=_in_column_order)
    return _Row(number, artist_id, fields, estimate), []


def _in_column_order(error: dict) -> int:
    return IMPORT_COLUMNS.index(error["field"]) if error["field"] in IMPORT_COLUMNS else -1


def _rows(chunks, context: _Context):
    """Every data row of the file, checked: `(number, row or None, errors)`; the header's
    and the file's own problems (encoding, broken quoting) as errors of their row, after
    which reading stops."""
    records = _records(chunks)
    number = 0
    columns = None
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as error:
            yield number + 1, None, [_error(number + 1, None, f"This row cannot be read: {error}.")]
            return
        number += 1
        if columns is None:
            columns, errors = _check_header(record)
            if errors:
                yield number, None, errors
                return
            continue
        if _blank(record):
            continue  # a blank line
        row, errors = _check_row(number, record, columns, context)
        yield number, row, errors
    if columns is None:
        yield 1, None, [_error(1, None, f"The file is empty; {_COLUMNS_ARE}")]


def _blank(record) -> bool:
    """A line with nothing in it (or only separators and spaces): neither counted nor read."""
    return not any(value.strip() for value in record)


_NOT_UTF8 = (
    "The file is not UTF-8 text. Save it as “CSV UTF-8” (with or without a byte order mark)."
)


def _existing(program_id: int, keys) -> set:
    """Which (artist, reference) pairs of `keys` the program already has: one probe of the
    index contribution_reference for a batch."""
    keys = list(keys)
    if not keys:
        return set()
    if connection.vendor == "postgresql":
        # Two array parameters: a statement with 2,000 placeholders cost more to prepare on
        # the client than to run.
        with connection.cursor() as cursor:
            cursor.execute(
                _EXISTING_PG,
                [program_id, [key[0] for key in keys], [key[1] for key in keys]],
            )
            return set(cursor.fetchall())
    values = ", ".join(["(%s, %s)"] * len(keys))
    sql = (
        "SELECT artist_id, reference FROM ledger_contribution "  # noqa: S608  # nosec B608 (placeholders only)
        f"WHERE program_id = %s AND reference <> '' AND (artist_id, reference) IN (VALUES {values})"
    )
    params = [program_id]
    for artist_id, reference in keys:
        params += [artist_id, reference]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return set(cursor.fetchall())


# One probe of contribution_reference per pair, whatever the planner believes of the
# program's size. Statistics lag behind an import (its own rows are not even committed): told
# the program's value, the planner believed a program of 100,000 rows empty and read all of
# them per batch (a hash join, 60-90 ms) or per pair (through the program_id index, minutes).
# As an InitPlan the program is a value it does not know, estimated as an average program.
_EXISTING_PG = (
    "SELECT c.artist_id, c.reference FROM ledger_contribution c "
    "WHERE c.program_id = (SELECT %s::bigint) AND c.reference <> '' "
    "AND (c.artist_id, c.reference) IN (SELECT * FROM unnest(%s::bigint[], %s::varchar[]))"
)


# ---------------------------------------------------------------------------- the worker


def enqueue(job_id: int) -> None:
    """Ask a worker to run import `job_id`. A queue that cannot take it is logged, not
    raised: the sweep enqueues it again."""
    from ledger.background.tasks import run_import

    workers.ask(run_import, job_id, what=f"Import {job_id}", otherwise="the sweep will")


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.LEDGER_IMPORT_LEASE_SECONDS)


def run(job_id: int) -> str:
    """Claim import `job_id` and run it to its end. Returns its status, or "skipped" when it
    is not this worker's to run (finished, or claimed by a live worker)."""
    now = clock.now()
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING, claimed_until__lt=now)
        )
        .update(
            status=ImportStatus.RUNNING,
            claimed_until=now + _lease(),
            attempts=F("attempts") + 1,
            started_at=Coalesce(F("started_at"), now),
        )
    )
    if not claimed:
        return "skipped"
    job = ImportJob.objects.select_related("program", "created_by").get(pk=job_id)
    # Every later write is conditional on the claim still being this one.
    mine = ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING, attempts=job.attempts)
    if job.attempts > settings.LEDGER_IMPORT_ATTEMPTS:
        return _finish(job, mine, failed=[_error(None, None, _GAVE_UP)], count=1)
    try:
        return _run(job, mine)
    except _LostClaim:
        return "skipped"
    except Exception:
        logger.exception("Import %s stopped; it will be retried", job_id)
        mine.update(claimed_until=clock.now())  # lapsed now: the sweep retries it soon
        raise


_GAVE_UP = "The import stopped before finishing several times; nothing was written. Try again."


def _run(job: ImportJob, mine) -> str:
    program = job.program
    try:
        access.require(job.created_by, access.Action.LOG_FOR_OTHERS, program.pk)
        _require_open(program)
    except DomainError as error:
        # About the import as a whole (the program closed, the role lost), not a column.
        return _finish(job, mine, failed=[_error(None, None, error.message)], count=1)
    context = _Context(program)
    errors, count, would_create, would_skip = [], 0, 0, 0
    seen = set()  # hashes of (artist, reference) met so far in the file: repeats are skipped
    batch: list[_Row] = []
    processed = 0

    def flush():
        nonlocal would_create, would_skip
        existing = _existing(program.pk, {row.key for row in batch if row.fields["reference"]})
        for row in batch:
            if row.fields["reference"]:
                digest = hash(row.key)
                if row.key in existing or digest in seen:
                    would_skip += 1
                    continue
                seen.add(digest)
            would_create += 1
        batch.clear()

    for _number, row, row_errors in _rows(stored_chunks(job.pk), context):
        processed += 1
        if row_errors:
            count += len(row_errors)
            errors.extend(row_errors[: max(IMPORT_MAX_ERRORS - len(errors), 0)])
        elif not count:
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                flush()
        if processed % BATCH_ROWS == 0:
            _progress(mine, processed)
    if count:
        return _finish(job, mine, failed=errors, count=count, processed=processed)
    flush()
    _progress(mine, processed, would_create=would_create, skipped=would_skip)
    if job.dry_run:
        return _finish(job, mine, created=0, skipped=would_skip, processed=processed)
    try:
        _write(job, mine)
    except _Invalid as invalid:
        return _finish(job, mine, failed=invalid.errors, count=invalid.count, processed=processed)
    return ImportStatus.SUCCEEDED


def _progress(mine, processed: int, **counts) -> None:
    """Commit how far the job got, renewing the claim; a claim lost stops the job."""
    if not mine.update(processed_rows=processed, claimed_until=clock.now() + _lease(), **counts):
        raise _LostClaim


def _write(job: ImportJob, mine):
    """The write pass: every row again, created or skipped, in one transaction."""
    program = job.program
    with transaction.atomic():
        if not mine.select_for_update().exists():
            raise _LostClaim  # the row lock keeps a second claim out until this commits
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Waiting for another import of the program is a worker's wait, not a
                # request's: longer than the requests' lock timeout.
                cursor.execute(
                    "SET LOCAL lock_timeout = %s", [f"{settings.LEDGER_IMPORT_LOCK_WAIT_SECONDS}s"]
                )
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [_IMPORT_LOCK, program.pk % 2**31]
                )
        days = review_within_days(program.pk)
        context = _Context(program)  # as committed now, under the lock
        created = skipped = 0
        errors, count = [], 0
        batch: list[_Row] = []

        def flush():
            nonlocal created, skipped
            existing = _existing(program.pk, {row.key for row in batch if row.fields["reference"]})
            fresh, keys = [], set()
            for row in batch:
                if row.fields["reference"]:
                    # Earlier batches are in the table already (this transaction), so the
                    # probe sees repeats across the file; `keys` those within the batch.
                    if row.key in existing or row.key in keys:
                        skipped += 1
                        continue
                    keys.add(row.key)
                fresh.append(
                    Contribution(artist_id=row.artist_id, estimate_minor=row.estimate, **row.fields)
                )
            if fresh:
                created += len(
                    submit_many(
                        actor=job.created_by,
                        program=program,
                        contributions=fresh,
                        review_within=days,
                    )
                )
            batch.clear()

        for _number, row, row_errors in _rows(stored_chunks(job.pk), context):
            if row_errors:
                count += len(row_errors)
                errors.extend(row_errors[: max(IMPORT_MAX_ERRORS - len(errors), 0)])
            elif not count:
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    flush()
        if count:
            raise _Invalid(errors, count)
        flush()
        audit.record(
            actor=job.created_by,
            action="import.finish",
            obj=job,
            program=program,
            created=created,
            skipped=skipped,
        )
        _finish(
            job, mine, created=created, skipped=skipped, processed=job.total_rows, keep_file=True
        )
    ImportChunk.objects.filter(job_id=job.pk).delete()
    return created, skipped


def _finish(
    job, mine, *, failed=None, count=0, created=0, skipped=0, processed=None, keep_file=False
):
    """End the job: `failed` with its errors (`count` in all), or succeeded. A successful
    dry run keeps its file for "import for real"; any other job's file is deleted."""
    fields = {
        "status": ImportStatus.FAILED if failed else ImportStatus.SUCCEEDED,
        "finished_at": clock.now(),
        "claimed_until": None,
        "errors": failed or [],
        "error_count": count,
        "created": created,
        "skipped": skipped,
    }
    if processed is not None:
        fields["processed_rows"] = processed
    if not mine.update(**fields):
        raise _LostClaim
    if not keep_file and (failed or not job.dry_run):
        ImportChunk.objects.filter(job_id=job.pk).delete()
    return fields["status"]


def sweep() -> int:
    """Enqueue the imports that evidently have no task on the way: queued for
    `LEDGER_IMPORT_SWEEP_GRACE_SECONDS` already, or running on a claim that lapsed (a worker
    killed); forget the files of finished jobs after `LEDGER_IMPORT_KEEP_FILE_HOURS` (a dry
    run's, kept for importing it for real). Returns how many were enqueued."""
    now = clock.now()
    grace = now - dt.timedelta(seconds=settings.LEDGER_IMPORT_SWEEP_GRACE_SECONDS)
    ids = list(
        ImportJob.objects.filter(
            Q(status=ImportStatus.QUEUED, created_at__lt=grace)
            | Q(status=ImportStatus.RUNNING, claimed_until__lt=now)
        )
        .order_by("id")
        .values_list("id", flat=True)[:100]
    )
    for job_id in ids:
        enqueue(job_id)
    ImportChunk.objects.filter(
        job__status__in=FINISHED,
        job__finished_at__lt=now - dt.timedelta(hours=settings.LEDGER_IMPORT_KEEP_FILE_HOURS),
    ).delete()
    if ids:
        logger.info("Import sweep enqueued %d job(s)", len(ids))
    return len(ids)
