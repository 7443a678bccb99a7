"""The audit trail: who changed what, when. Append-only (PostgreSQL triggers refuse edits)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from ledger import clock

from .triggers import append_only


class AuditEvent(models.Model):
    at = models.DateTimeField(default=clock.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=60)  # e.g. "contribution.accept"
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    program = models.ForeignKey(
        "ledger.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]
        triggers = append_only("audit")

    def __str__(self):
        return f"{self.action} {self.object_type}:{self.object_id} by {self.actor_id}"
