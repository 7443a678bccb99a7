"""Invitations: a manager asks someone, by email, to join a program as a member or staff."""

from django.conf import settings
from django.db import models

from ledger import access, clock

from .programs import Program


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


# Shown, never stored: a pending invitation past `expires_at` (computed from the dates, so it
# cannot go stale).
EXPIRED = "expired"
SHOWN_STATUSES = [*InvitationStatus.values, EXPIRED]


class InvitationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The invitations of the programs `user` is staff of (`access.scope_of`)."""
        scope = access.scope_of(user)
        if scope.everything:
            return self
        return self.filter(program_id__in=sorted(scope.programs))


class Invitation(models.Model):
    """An emailed, single-use, expiring link to join `program`: as a member (artist) when
    `role` is null, else as staff in that role.

    Only the SHA-256 of the link's secret is stored (`token_hash`), as for API tokens: the
    database alone cannot be used to join.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    display_name = models.CharField(max_length=200, blank=True)
    # Null, not "": no role at all (the invitee joins as a member), as the API says it.
    role = models.CharField(  # noqa: DJ001
        max_length=10,
        null=True,
        blank=True,
        choices=[(r.value, r.value.title()) for r in access.ROLES],
    )
    token_hash = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the secret
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accepted_invitations",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__isnull=True)
                | models.Q(role__in=[r.value for r in access.ROLES]),
                name="invitation_role_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=InvitationStatus.values),
                name="invitation_status_valid",
            ),
            # Accepted exactly when someone accepted it, at a time.
            models.CheckConstraint(
                condition=models.Q(
                    status=InvitationStatus.ACCEPTED,
                    accepted_by__isnull=False,
                    accepted_at__isnull=False,
                )
                | (
                    ~models.Q(status=InvitationStatus.ACCEPTED)
                    & models.Q(accepted_by__isnull=True, accepted_at__isnull=True)
                ),
                name="invitation_accepted_by_someone",
            ),
        ]
        indexes = [models.Index(fields=["program", "-created_at"], name="invitation_program")]

    def __str__(self):
        return f"{self.email} to {self.program_id} as {self.role or 'member'}"

    @property
    def expired(self) -> bool:
        return self.expires_at <= clock.now()

    @property
    def shown_status(self) -> str:
        """`status`, or `expired` for a pending invitation whose link no longer works."""
        if self.status == InvitationStatus.PENDING and self.expired:
            return EXPIRED
        return self.status

    @property
    def usable(self) -> bool:
        return self.status == InvitationStatus.PENDING and not self.expired
