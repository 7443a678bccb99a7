"""Which database a read goes to: the one home of read routing.

Reports, statements, exports and list reads may be served by a streaming replica; every write,
lock and ledger check goes to the primary ("default"). Code that reads with raw SQL takes its
cursor from `read_connection()`; code that writes uses `connections[PRIMARY]` (or the ORM, whose
writes the router sends to the primary). Until a replica is configured (DATABASE_REPLICA_URL,
the alias "replica") every read is the primary's.

The rule, in order (`read_alias`):

1. Only reads that opt in may leave the primary: those run inside `replica_reads()` (the list,
   statement, report and export views of the API and the pages). Everything else — sessions,
   sign-in, services, `select_for_update`, `verify_ledger`, background work — reads the
   primary, and so does anything inside a transaction on the primary.
2. Only inside a request (`ReplicaRoutingMiddleware`), and only a safe one (GET, HEAD,
   OPTIONS) that has written nothing so far: a request that writes reads what it wrote.
3. Read-your-writes by position in the WAL, never by a sleep: after a request that wrote, the
   primary's WAL position is kept for its user (and its session) where every server finds it
   (`ledger.positions`: Redis or a table, raised atomically); a later request of theirs reads
   the replica only once the replica has replayed that far.
4. The replica must answer, receive WAL and, unless it has replayed all the primary has
   flushed, be less than `LEDGER_REPLICA_MAX_LAG_SECONDS` behind (the age of the last
   transaction it replayed); otherwise the primary serves. One probe of the replica per
   request, when a read first asks; an unreachable replica is not asked again for a few
   seconds (per process).
"""

import contextlib
import contextvars
import logging
import re
import time

from django.conf import settings
from django.db import connections

PRIMARY = "default"
REPLICA = "replica"

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# An unreachable replica is not probed again by this process for this long (seconds): its
# connection timeout would otherwise be added to every report read while it is down.
DOWN_RETRY_SECONDS = 5.0

_allowed = contextvars.ContextVar("replica_reads", default=False)
_pinned = contextvars.ContextVar("routing_pinned", default=None)
_request = contextvars.ContextVar("routing_request", default=None)
_down_until = 0.0  # time.monotonic() before which the replica is taken as down


def replica_configured() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str:
    """The database alias this read may use: the replica under the rule above, else PRIMARY."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    if not _allowed.get() or not replica_configured():
        return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY
    route = _request.get()
    return PRIMARY if route is None else route.alias()


def read_connection():
    """The connection a raw-SQL read takes its cursor from."""
    return connections[read_alias()]


@contextlib.contextmanager
def replica_reads():
    """Let the reads inside (ORM and `read_connection()`) use the replica when the request
    may; also a decorator (`@routing.replica_reads()`). For reports, statements, exports and
    lists only: never around code that writes or must see the latest committed state."""
    token = _allowed.set(True)
    try:
        yield
    finally:
        _allowed.reset(token)


@contextlib.contextmanager
def not_the_requests_writes():
    """Writes inside are not the request's own but a derived cache it fills (the report's
    stored figures): the request's reads stay where they were routed, and no WAL position is
    kept for its user, who has nothing new to read back."""
    route = _request.get()
    if route is None:
        yield
        return
    with route._own():
        yield


def keep_route(chunks):
    """`chunks` (an iterator a streaming response consumes after the view has returned, and
    the middleware with it) read from the database this request chose, decided now."""
    alias = read_alias()

    def stream():
        iterator = iter(chunks)
        while True:
            token = _pinned.set(alias)
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            finally:
                _pinned.reset(token)
            yield chunk

    return stream()


# Shared state and who is signed in are read from the primary whatever the view: sessions,
# permissions, second-factor devices, lockouts, and the database cache, which a lagging copy
# would show as they were. (Rate counts and read-your-writes positions are read on the primary
# by raw SQL: `ledger.ratelimit`, `ledger.positions`.)
ALWAYS_PRIMARY_APPS = frozenset(
    {"sessions", "auth", "contenttypes", "otp_totp", "otp_static", "axes", "django_cache"}
)


class ReplicaRouter:
    """Django's database router: reads where `read_alias` says, every write to the primary,
    migrations on the primary only (the replica replays them)."""

    def db_for_read(self, model, **hints):
        if model._meta.app_label in ALWAYS_PRIMARY_APPS:
            return PRIMARY
        return read_alias()

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


# --- the request's side: what it wrote, where it may read ---------------------------------------

# A statement that writes (a CTE that inserts, as the journal's, included). Only the primary's
# statements are watched; COPY through the driver's own cursor is not seen, but it only runs
# in unsafe requests, which count as writing anyway.
_WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|COPY|TRUNCATE)\b"
    r"|^\s*WITH\b.*\b(INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b",
    re.IGNORECASE | re.DOTALL,
)

# Where the replica is, from the replica itself (one statement): the WAL position replayed
# (bytes from 0/0; NULL on a server that is not a standby), the age in seconds of the last
# transaction it replayed, and whether a WAL receiver runs (a standby that lost its primary
# replays nothing more).
_PROBE_SQL = (
    "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn, "
    "COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0), "
    "EXISTS (SELECT 1 FROM pg_stat_wal_receiver)"
)
# How far the primary has flushed its WAL (bytes from 0/0), the most a replica can have: one
# that has replayed that far is not behind at all, whatever its receiver shows. Compared with
# the primary's own position, not with what the replica has received: a replica whose
# receiver is still attached but no longer gets WAL (a network partition, until
# wal_receiver_timeout) has replayed all it received and would look current.
_FLUSHED_SQL = "SELECT pg_current_wal_flush_lsn() - '0/0'::pg_lsn"
# The primary's WAL insert position after the request's commits (bytes from 0/0): at or past
# the end of every record it committed, even with synchronous_commit off.
_POSITION_SQL = "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn"


def _written_keys(request) -> list[str]:
    """The keys of the WAL position the request's user and session last wrote at."""
    keys = []
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        keys.append(f"user:{user.pk}")
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        keys.append(f"session:{session.session_key}")
    return keys


def _wal_position(connection, sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


class RequestRoute:
    """One request's routing: whether it wrote, and where its replica-eligible reads go
    (decided once, when the first of them asks)."""

    def __init__(self, request):
        self.request = request
        self.wrote = request.method not in SAFE_METHODS
        self._alias = None
        self._deciding = False  # what the decision itself reads comes from the primary
        self._quiet = False  # our own reads and writes are not the request's writes

    def watch(self, execute, sql, params, many, context):
        """An execute wrapper on the primary: notes the first statement that writes."""
        if not self.wrote and not self._quiet and _WRITES.match(sql):
            self.wrote = True
        return execute(sql, params, many, context)

    def alias(self) -> str:
        if self.wrote or self._deciding:
            return PRIMARY
        if self._alias is None:
            self._deciding = True
            try:
                self._alias = self._decide()
            finally:
                self._deciding = False
        return self._alias

    def _decide(self) -> str:
        global _down_until
        if time.monotonic() < _down_until:
            return PRIMARY
        from ledger import positions

        try:
            with self._own():
                needed = positions.highest(_written_keys(self.request))
                flushed = _wal_position(connections[PRIMARY], _FLUSHED_SQL)
        except Exception:  # a store that fails: nothing is known of the user's writes
            log.warning("read-your-writes: store unreadable, reading the primary", exc_info=True)
            return PRIMARY
        try:
            with connections[REPLICA].cursor() as cursor:
                cursor.execute(_PROBE_SQL)
                replayed, lag_seconds, receiving = cursor.fetchone()
        except Exception:
            _down_until = time.monotonic() + DOWN_RETRY_SECONDS
            log.warning("replica unreachable: reading the primary", exc_info=True)
            with contextlib.suppress(Exception):
                connections[REPLICA].close()
            return PRIMARY
        if replayed is None or not receiving:
            return PRIMARY  # not a standby, or cut off from its primary
        behind = int(replayed) < flushed
        if behind and float(lag_seconds) > settings.LEDGER_REPLICA_MAX_LAG_SECONDS:
            return PRIMARY  # behind the primary, by more than the bound
        if int(replayed) < needed:
            return PRIMARY  # the user's own last write has not been replayed yet
        return REPLICA

    def remember_writes(self) -> None:
        """After a request that wrote: keep the primary's WAL position for its user and
        session, for as long as the replica may lag behind it (then the lag bound decides)."""
        if not self.wrote:
            return
        keys = _written_keys(self.request)
        if not keys:
            return
        from ledger import positions

        with self._own():
            position = _wal_position(connections[PRIMARY], _POSITION_SQL)
            # Never backwards (a slower request of the same user may finish after a later
            # one): `raise_to` keeps the higher value in one atomic step.
            positions.raise_to(keys, position, settings.LEDGER_REPLICA_MAX_LAG_SECONDS + 60)

    @contextlib.contextmanager
    def _own(self):
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False


class ReplicaRoutingMiddleware:
    """Once per request, for the API and the pages: watch whether the request writes on the
    primary, let `read_alias` decide its replica-eligible reads, and after a request that
    wrote keep the WAL position its user must see (the rule in this module's docstring).
    Does nothing while no replica is configured."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None:
            user.is_authenticated  # noqa: B018  # signed-in user and session: from the primary, now
        route = RequestRoute(request)
        token = _request.set(route)
        try:
            with connections[PRIMARY].execute_wrapper(route.watch):
                response = self.get_response(request)
        finally:
            _request.reset(token)
        try:
            route.remember_writes()
        except Exception:
            # The write is committed; without its position the user's next reads may come
            # from a replica that has not replayed it yet, for at most the lag bound.
            log.exception("read-your-writes: could not keep the WAL position")
        return response
