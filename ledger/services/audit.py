from ledger.models import AuditEvent


def record(*, actor, action: str, obj, program=None, **data) -> AuditEvent:
    """Write one audit row for `obj`, inside the caller's transaction."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        program=program,
        data=data,
    )
