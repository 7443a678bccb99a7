"""The database cache's table (settings.CACHE_TABLE), made by `migrate` so nothing extra is run.

The throttles count in the cache, and every worker must see one count; the table exists even
while REDIS_URL points the cache at Redis, so switching back needs no extra step. Creating it
is a no-op when `createcachetable` already made it.
"""

from django.conf import settings
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations


def create_cache_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0  # set by the command's handle(), which is not run here
    command.create_table(schema_editor.connection.alias, settings.CACHE_TABLE, dry_run=False)


def drop_cache_table(apps, schema_editor):
    table = schema_editor.connection.ops.quote_name(settings.CACHE_TABLE)
    schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_idempotencykey_moved_to_api")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table, elidable=False)]
