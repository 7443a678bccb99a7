"""Which database a read goes to: the one home of read routing.

Reports, statements, exports and list reads may be served by a streaming replica; every write,
lock and ledger check goes to the primary ("default"). Code that reads with raw SQL takes its
cursor from `read_connection()`; code that writes uses `connections[PRIMARY]` (or the ORM, whose
writes the router sends to the primary). Until a replica is configured every read is the
primary's.
"""

from django.db import connections

PRIMARY = "default"


def read_alias() -> str:
    """The database alias this read may use (the primary until a replica is configured)."""
    return PRIMARY


def read_connection():
    """The connection a raw-SQL read takes its cursor from."""
    return connections[read_alias()]
