"""Migration operations of this project."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations import AddIndex


class AddIndexWithoutBlocking(AddIndexConcurrently):
    """Add an index without blocking writes on PostgreSQL (CREATE INDEX CONCURRENTLY: a plain
    CREATE INDEX holds a lock that stops every insert into a big contributions table for the
    whole build); a plain AddIndex on SQLite, which has no such option. The migration using it
    must not be atomic (`atomic = False`)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
