"""IdempotencyKey now belongs to the REST API app (`ledger_api` 0001): drop it from this app's
state only, so its table and rows stay; its content type (and any permission granted on it)
follows it to the new app."""

from django.db import migrations


def _move_content_type(apps, schema_editor, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=target, model="idempotencykey").exists():
        types.filter(app_label=source, model="idempotencykey").update(app_label=target)


def forwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "accounts", "ledger_api")


def backwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "ledger_api", "accounts")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_tokens_idempotency"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("ledger_api", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyKey")],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
