"""PostgreSQL session limits as database settings: the one way they reach every session.

`lock_timeout`, `statement_timeout` and `idle_in_transaction_session_timeout` (milliseconds,
`settings.LEDGER_PG_TIMEOUTS_MS`, from DJANGO_PG_*_MS), and Django's time zone, are stored on
the database with `ALTER DATABASE … SET`, so PostgreSQL applies them to each new server
session itself, whether the app connects directly or through PgBouncer in transaction pooling
mode. Startup options (`-c lock_timeout=…`) would not do: PgBouncer refuses them, and a server
connection it shares carries no client's options. A session-level `SET` would not either: in
transaction pooling it stays on one server connection and the next transaction may run on
another.

`apply()` runs after every `migrate` (post_migrate), so a deploy applies changed values; it is
idempotent. The session that ran it gets the values too (a `SET` equal to the database's
default, so harmless on whichever pooled server connection it lands): sessions opened earlier
keep theirs until they reconnect (PgBouncer's `server_lifetime`, or `RECONNECT` on its admin
console).
"""

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger(__name__)


def apply(connection) -> dict[str, str] | None:
    """Store the session limits on the database behind `connection` (a Django connection);
    return them (None off PostgreSQL). Needs the database's owner (or a superuser), as
    `migrate` has."""
    if connection.vendor != "postgresql":
        return None
    values = {name: f"{int(ms)}ms" for name, ms in settings.LEDGER_PG_TIMEOUTS_MS.items()}
    # Django's own time zone too: a session whose TimeZone differs gets a session-level
    # `SET TIME ZONE` from Django at connect (PgBouncer tracks that one parameter, but a
    # session already right needs nothing).
    values["TimeZone"] = connection.timezone_name.replace("'", "")
    with connection.cursor() as cursor:
        # The real name: through PgBouncer the connection's name may be an alias.
        cursor.execute("SELECT current_database()")
        database = connection.ops.quote_name(cursor.fetchone()[0])
        for name, value in values.items():
            # Names are constants; values are integers formatted above and the settings' zone.
            cursor.execute(f"ALTER DATABASE {database} SET {name} = '{value}'")  # nosec B608
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
    return values


def on_post_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    """post_migrate runs once per app; the settings need storing once per migrate."""
    if sender.name == "ledger":
        apply(connections[using])
