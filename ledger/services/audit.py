import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from ledger import clock

_INSERT_AUDIT = (
    "INSERT INTO ledger_auditevent (at, actor_id, action, object_type, object_id, program_id, "
    "data) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def record(*, actor, action: str, obj, program=None, **data) -> None:
    """Write one audit row for `obj`, inside the caller's transaction.

    Plain SQL: every write of every service ends here, and the ORM's insert cost more Python
    than the rest of a settlement (docs/PERFORMANCE.md). `data` is encoded as `AuditEvent.data`
    encodes it (DjangoJSONEncoder: Decimal and dates as strings).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_AUDIT,
            [
                connection.ops.adapt_datetimefield_value(clock.now()),
                actor.pk if actor is not None and actor.pk else None,
                action,
                obj._meta.model_name,
                str(obj.pk),
                getattr(program, "pk", program),
                json.dumps(data, cls=DjangoJSONEncoder),
            ],
        )


_COPY_AUDIT = (
    "COPY ledger_auditevent (at, actor_id, action, object_type, object_id, program_id, data) "
    "FROM STDIN"
)


def record_many(*, actor, action: str, program, events) -> None:
    """Write one audit row per `(obj, data)` of `events`, as `record` writes each, in one
    multi-row insert per batch: a bulk import writes thousands at once."""
    from ledger.models import AuditEvent

    at = clock.now()
    actor_id = actor.pk if actor is not None and actor.pk else None
    program_id = getattr(program, "pk", program)
    if connection.vendor == "postgresql":
        # COPY: a bulk_create of thousands spent most of its time preparing values in Python.
        with connection.cursor() as cursor, cursor.cursor.copy(_COPY_AUDIT) as copy:
            for obj, data in events:
                copy.write_row(
                    (
                        at,
                        actor_id,
                        action,
                        obj._meta.model_name,
                        str(obj.pk),
                        program_id,
                        json.dumps(data, cls=DjangoJSONEncoder),
                    )
                )
        return
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=at,
                actor_id=actor_id,
                action=action,
                object_type=obj._meta.model_name,
                object_id=str(obj.pk),
                program_id=program_id,
                data=data,
            )
            for obj, data in events
        ],
        batch_size=1000,
    )
