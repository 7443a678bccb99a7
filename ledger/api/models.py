"""Rows the REST API keeps for itself."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyKey(models.Model):
    """A claimed Idempotency-Key and the 2xx response it produced, replayed to repeats.

    Claimed in the same transaction as the work it guards: a rolled-back request leaves no
    row, so the key may be retried. `fingerprint` is the SHA-256 of method, path and the
    body as canonical JSON.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        # The table keeps the name it had when the model lived in `accounts`: moving the model
        # changed no row and took no lock, and a server still running the previous release
        # during a deploy keeps finding its table.
        db_table = "accounts_idempotencykey"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"
