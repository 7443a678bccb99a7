"""Idempotency-Key for authenticated POSTs.

The key is claimed (a row with a unique (user, key)) in the same transaction as the work and
the stored response, so a repeat can never see half of it:

- a repeat after success gets the stored status and body with `Idempotent-Replayed: true`;
- a repeat with a different method, path or body (compared as JSON values) → 422;
- a repeat that arrives while the first runs waits on the row (PostgreSQL: the unique index;
  SQLite: the write lock of BEGIN IMMEDIATE) and then replays it, or → 409 when the wait on
  the claim outlasts the lock timeout (a busy database elsewhere is a 503, see errors.py);
- a refused request (4xx) or a rollback stores nothing, so the key may be retried.
"""

import datetime as dt
import functools
import hashlib
import json

from django.conf import settings
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
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


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


def run_idempotent(request, work):
    """Run `work()` (returning a Response) under the request's Idempotency-Key, if any."""
    key = request.headers.get(HEADER)
    if key is None or not request.user.is_authenticated:
        return work()
    if not 1 <= len(key) <= 255:
        raise exceptions.ValidationError({HEADER: ["Must be 1 to 255 characters."]})
    fp = fingerprint(request)
    try:
        with transaction.atomic():
            record = _lookup(request.user, key)
            if record is not None:
                return _replay(record, fp)
            # A key past its retention is forgotten before it is claimed again.
            IdempotencyKey.objects.filter(
                user=request.user, key=key, created_at__lt=timezone.now() - retention()
            ).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=request.user, key=key, fingerprint=fp
                    )
            except IntegrityError:
                # Another request claimed it and has committed meanwhile (we waited on it).
                record = _lookup(request.user, key)
                if record is None:
                    raise IdempotencyInProgress() from None
                return _replay(record, fp)
            except OperationalError as exc:
                # Waiting for the other request's claim outlasted the lock timeout.
                if classify(exc) == db_errors.LOCK_TIMEOUT:
                    raise IdempotencyInProgress() from exc
                raise
            response = work()
            if not 200 <= response.status_code < 300:
                raise _Refused(response)
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body"])
            return response
    except _Refused as refused:
        return refused.response


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
