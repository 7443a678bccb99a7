"""Plain-SQL lists paged by slicing (page numbers) or by a key (cursors), for the hottest API
lists; and `keyset_rows` / `keyset_chunks`, how a long result (an export, a statement check,
the chain walk through `entries.chain_postings`) is streamed."""

import contextlib
import copy
import functools
import operator
from collections.abc import Iterator, Sequence

from django.core.exceptions import FieldDoesNotExist
from django.db import connections, transaction
from django.db.models import Q

from ledger import routing


class SqlRows:
    """A list read as plain SQL, paged by slicing (`rows[offset:stop]`), rows as dicts.

    For the hottest API lists: building and compiling the equivalent annotated ORM query
    took more time than the rest of the request (docs/PERFORMANCE.md). `conditions` are
    (SQL with %s placeholders, its parameters) pairs joined by AND; only constant SQL is formatted
    into the statement, never a value. Each column named like a field of `model` gets the
    database's value converted as the ORM would (SQLite keeps timestamps naive and decimals
    as floats; PostgreSQL needs nothing), so a new column needs no other edit.
    """

    def __init__(self, select: str, conditions: list[tuple[str, list]], order_by: str, model):
        self.select, self.ordering, self.model = select, order_by, model
        self.where = " AND ".join(sql for sql, _ in conditions) or "1 = 1"
        self.params = [param for _, params in conditions for param in params]

    def __getitem__(self, window: slice) -> list[dict]:
        offset = window.start or 0
        sql = f"{self.select} WHERE {self.where} ORDER BY {self.ordering} LIMIT %s OFFSET %s"
        connection = routing.read_connection()
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, window.stop - offset, offset])
            names = tuple(column[0] for column in cursor.description)
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        for name, column, converters in _converters(self.model, names, connection.alias):
            for row in rows:
                for convert in converters:
                    row[name] = convert(row[name], column, connection)
        return rows


class KeysetRows(SqlRows):
    """A plain-SQL list paged by a cursor on one unique key (DRF's `CursorPagination`).

    It answers the only queryset calls that pagination makes: `order_by(key)` or
    `order_by("-key")`, `filter(key__gt=position)` or `filter(key__lt=position)`, then a
    slice. `column` is the key's SQL; the position is prepared by the model's field, as the ORM
    would, so a client-held cursor reaches the statement only as a parameter.
    """

    def __init__(self, select: str, conditions: list[tuple[str, list]], model, key, column):
        super().__init__(select, conditions, f"{column} ASC", model)
        self.key, self.column = key, column

    def order_by(self, *fields: str) -> "KeysetRows":
        (field,) = fields
        if field.lstrip("-") != self.key:
            raise ValueError(f"{type(self).__name__} is ordered by {self.key} only, not {field}.")
        clone = copy.copy(self)
        clone.ordering = f"{self.column} {'DESC' if field.startswith('-') else 'ASC'}"
        return clone

    def filter(self, **lookups) -> "KeysetRows":
        ((lookup, position),) = lookups.items()
        operator = {f"{self.key}__gt": ">", f"{self.key}__lt": "<"}[lookup]
        value = self.model._meta.get_field(self.key).get_prep_value(position)
        clone = copy.copy(self)
        clone.where = f"{self.where} AND {self.column} {operator} %s"
        clone.params = [*self.params, value]
        return clone


@functools.cache
def _converters(model, names: tuple[str, ...], alias: str) -> list:
    """(column name, column, converters) for each of `names` that is a field of `model` whose
    database value needs converting; computed once per list shape and database alias."""
    connection = connections[alias]
    found = []
    for name in names:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # a joined table's column (the program's currency)
            continue
        if not field.concrete or field.is_relation:
            continue
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((name, column, converters))
    return found


def keyset_rows(queryset, keys: Sequence[str], *, chunk_size: int = 2000) -> Iterator:
    """Yield the rows of `queryset` ordered by `keys`, read in chunks of `chunk_size` rows.

    The way to stream a result too long to hold in memory: each chunk is one statement,
    `… WHERE keys > (the last row's keys) ORDER BY keys LIMIT chunk_size`, so memory is bound
    by a chunk and no server-side cursor is needed (a cursor lives in one server session,
    which PgBouncer in transaction pooling mode does not keep for a client between
    transactions). `keys` must identify a row (end with a unique field) and never be NULL (a
    NULL compares as unknown: its rows would be skipped); the rows are model instances (a key
    across a relation, `artist__display_name`, needs its `select_related`) or `values_list`
    tuples that select every key.

    Each chunk is read at its own moment, and no transaction is held between chunks (a slow
    reader holds no server connection): only for rows that cannot change while the stream
    runs (the postings up to a chain head read first). Rows that can change and must be read
    as one state (a payment batch, the members of a program) are read in one statement.
    """
    return (row for chunk in keyset_chunks(queryset, keys, chunk_size) for row in chunk)


def keyset_chunks(queryset, keys: Sequence[str], chunk_size: int) -> Iterator[list]:
    """`keyset_rows`, a chunk (a list of at most `chunk_size` rows) at a time."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    keys = tuple(keys)
    queryset = queryset.order_by(*keys)
    fields = getattr(queryset, "_fields", ())  # set by values_list(): rows are tuples
    if fields:
        at = [fields.index(key) for key in keys]

        def position(row):
            return tuple(row[i] for i in at)
    else:

        def position(row):
            return tuple(functools.reduce(getattr, key.split("__"), row) for key in keys)

    after = None
    while True:
        chunk = list(
            (queryset if after is None else queryset.filter(_after(keys, after)))[:chunk_size]
        )
        if chunk:
            yield chunk
        if len(chunk) < chunk_size:
            return
        after = position(chunk[-1])


def _after(keys: tuple[str, ...], values: tuple) -> Q:
    """Rows after `values` in `keys` order: (k1 > v1) or (k1 = v1 and k2 > v2) or …, with
    k1 >= v1 beside it so the database can start an index range scan at the position."""
    later = functools.reduce(
        operator.or_,
        (
            Q(**{f"{key}__gt": values[n]}, **dict(zip(keys[:n], values[:n], strict=True)))
            for n, key in enumerate(keys)
        ),
    )
    return Q(**{f"{keys[0]}__gte": values[0]}) & later


@contextlib.contextmanager
def snapshot(connection):
    """Every read inside, on `connection`, sees one state of the database, however many
    statements it takes and whatever commits meanwhile: for readers that compare what they
    read in several statements (the ledger check, the report's refresh). On PostgreSQL a
    REPEATABLE READ, READ ONLY transaction (fine under PgBouncer's transaction pooling: it is
    one transaction); on SQLite a transaction is one snapshot already. Inside a transaction
    the caller has open, its own snapshot is what there is."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
