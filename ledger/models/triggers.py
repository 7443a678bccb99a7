"""PostgreSQL trigger sets shared by the append-only tables."""

import pgtrigger


def append_only(prefix: str) -> list:
    """Triggers that refuse UPDATE, DELETE and TRUNCATE of a table (PostgreSQL only)."""
    return [
        pgtrigger.Protect(
            name=f"{prefix}_append_only", operation=pgtrigger.Update | pgtrigger.Delete
        ),
        pgtrigger.Trigger(
            name=f"{prefix}_no_truncate",
            when=pgtrigger.Before,
            operation=pgtrigger.Truncate,
            level=pgtrigger.Statement,
            func="RAISE EXCEPTION 'Cannot truncate % (append-only)', TG_TABLE_NAME; RETURN NULL;",
        ),
    ]
