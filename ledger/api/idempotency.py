"""Idempotency-Key for authenticated POSTs.

The key is claimed (a row with a unique (user, key)) in the same transaction as the work and
the stored response, so a repeat can never see half of it:

- a repeat after success gets the stored status and body with `Idempotent-Replayed: true`;
- a repeat with a different method, path or body (compared as JSON values) → 422;
- a repeat that arrives while the first runs waits on the row (PostgreSQL: the unique index;
  SQLite: the write lock of BEGIN IMMEDIATE) and then replays it, or → 409 when the wait on
  the claim outlasts the lock timeout (a busy database elsewhere is a 503, see errors.py);
- a refused request (4xx) or a rollback stores nothing, so the key may be retried.

`run_once` is the claim itself; the pay page's single-use confirmation claims its keys with it too.
"""

import datetime as dt
import functools
import hashlib
import json

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.response import Response

from ledger import db_errors
from ledger.db_errors import classify

from .errors import IdempotencyConflict, IdempotencyInProgress
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class _Refused(Exception):
    """Raised inside the transaction to roll back the claim of a non-2xx response."""

    def __init__(self, response):
        self.response = response


def retention() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "LEDGER_IDEMPOTENCY_RETENTION_HOURS", 48))


def fingerprint(request) -> str:
    data = request.data
    if hasattr(data, "dict"):  # a QueryDict (form or empty body)
        data = data.dict()
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=_file_or_text)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _file_or_text(value) -> str:
    """An uploaded file by the SHA-256 of its content (a repeat sends the same bytes), any
    other value as text."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return f"file:{digest.hexdigest()}"
    return str(value)


def _replay(record: IdempotencyKey, fp: str) -> Response:
    if record.fingerprint != fp:
        raise IdempotencyConflict()
    if record.status_code is None:  # claimed but not finished: cannot happen once committed
        raise IdempotencyInProgress()
    return Response(
        record.response_body, status=record.status_code, headers={REPLAYED_HEADER: "true"}
    )


def _lookup(user, key):
    return IdempotencyKey.objects.filter(
        user=user, key=key, created_at__gte=timezone.now() - retention()
    ).first()


class KeyInProgress(Exception):
    """Another request holds the key's claim and the wait for it outlasted the lock timeout."""


def run_once(user, key: str, fp: str, work):
    """Run `work()` at most once per (user, key): the one home of the key claim.

    The key is claimed in the same transaction as `work()`, which returns (result, status
    code, JSON body); the status and body are stored with the claim, and an exception from
    `work()` rolls back both, so the key may be retried. Returns (result, None) when this call
    did the work, or (None, record) when an earlier call with the key did (the caller replays
    `record`, refusing one whose fingerprint is not `fp`). A repeat arriving while the first
    runs waits on the claim, then replays it; `KeyInProgress` when that wait times out.
    """
    with transaction.atomic():
        record = _lookup(user, key)
        if record is not None:
            return None, record
        # A key past its retention is forgotten before it is claimed again.
        IdempotencyKey.objects.filter(
            user=user, key=key, created_at__lt=timezone.now() - retention()
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(user=user, key=key, fingerprint=fp)
        except IntegrityError:
            # Another request claimed it and has committed meanwhile (we waited on it).
            record = _lookup(user, key)
            if record is None:
                raise KeyInProgress() from None
            return None, record
        except OperationalError as exc:
            # Waiting for the other request's claim outlasted the lock timeout.
            if classify(exc) == db_errors.LOCK_TIMEOUT:
                raise KeyInProgress() from exc
            raise
        result, status_code, body = work()
        record.status_code = status_code
        record.response_body = body
        record.save(update_fields=["status_code", "response_body"])
        return result, None


def run_idempotent(request, work):
    """Run `work()` (returning a Response) under the request's Idempotency-Key, if any."""
    key = request.headers.get(HEADER)
    if key is None or not request.user.is_authenticated:
        return work()
    if not 1 <= len(key) <= 255:
        raise exceptions.ValidationError({HEADER: ["Must be 1 to 255 characters."]})
    fp = fingerprint(request)

    def work_or_refuse():
        response = work()
        if not 200 <= response.status_code < 300:
            raise _Refused(response)
        return response, response.status_code, response.data

    try:
        response, earlier = run_once(request.user, key, fp, work_or_refuse)
    except _Refused as refused:
        return refused.response
    except KeyInProgress:
        raise IdempotencyInProgress() from None
    return response if earlier is None else _replay(earlier, fp)


def idempotent(method):
    """Decorate a view's POST handler so it honours Idempotency-Key."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: method(self, request, *args, **kwargs))

    wrapper.idempotent = True
    return wrapper


def purge_expired() -> int:
    """Delete keys past their retention; returns how many."""
    cutoff = timezone.now() - retention()
    return IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()[0]
