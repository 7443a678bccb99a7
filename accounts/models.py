"""Users: people who log work, and the staff who review and pay it.

What a user may do is not stored here: roles are held per program (`ledger.models.StaffRole`)
and read through `ledger.access`; a superuser is an operator with every role.
"""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone

from ledger.crypto import EncryptedTextField


class UserQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The people `user` sees (`ledger.access.scope_of`): an operator every one, staff
        the members of their programs and the people who accepted an invitation to one of
        them (staff invitees included), everyone itself.

        "Invited" means accepted: a pending invitation names an email address, not a login,
        and showing staff the account that happens to hold an invited address would let
        anyone who may invite find out which addresses have accounts here. Until the person
        accepts, the program's invitation list is where staff see them. The API's `/artists/`,
        the enrolment check (`services.enroll_artist`) and the enrol form all read this.
        """
        from ledger import access  # access reads roles through the ledger's models
        from ledger.models import Invitation, Membership

        scope = access.scope_of(user)
        if scope.everything:
            return self
        condition = models.Q(pk=scope.artist_id) if scope.artist_id else models.Q(pk__in=[])
        if scope.programs:
            programs = sorted(scope.programs)
            members = Membership.objects.filter(program_id__in=programs)
            invitees = Invitation.objects.filter(program_id__in=programs, accepted_by__isnull=False)
            condition |= models.Q(pk__in=members.values("artist_id"))
            condition |= models.Q(pk__in=invitees.values("accepted_by_id"))
        return self.filter(condition)

    def with_staff_flag(self):
        """Each user with `holds_staff_role`: whether it holds a role in any program."""
        from ledger.models import StaffRole

        return self.annotate(
            holds_staff_role=models.Exists(StaffRole.objects.filter(user_id=models.OuterRef("pk")))
        )


class LedgerUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person: an artist in the programs it belongs to, staff in those it holds roles in."""

    display_name = models.CharField(max_length=200, blank=True)
    # Email for the events of the in-app inbox (`ledger.notifications`); the inbox itself is
    # always kept.
    email_notifications = models.BooleanField(default=True)

    objects = LedgerUserManager()

    def __str__(self):
        return self.display_name or self.username

    def save(self, *args, **kwargs):
        if not self.display_name:
            self.display_name = self.get_full_name() or self.username
        # set_password() leaves the new raw password in _password until the save; every way a
        # password changes (the change and reset pages, the admin, `changepassword`) passes
        # here, while a hasher upgrade at login clears it first and so revokes nothing.
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            from accounts.tokens import revoke_all_tokens  # tokens imports this module

            revoke_all_tokens(self)


class ApiTokenQuerySet(models.QuerySet):
    def live(self):
        """Tokens that still authenticate: not revoked and not expired."""
        return self.filter(revoked=False).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class ApiToken(models.Model):
    """A bearer token for the REST API. Only the SHA-256 of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the secret
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.user} token {self.name or self.pk}"


class BankDetails(models.Model):
    """Where an artist is paid: IBAN and BIC, encrypted at rest (`ledger.crypto`).

    A row of its own rather than fields of `User`, so no read of a user (every request reads
    one) carries ciphertext or decrypts anything; the row exists only while details are on
    file. Values are checked and normalised by `ledger.banking`, read only by whom
    `ledger.access.sees_bank_details` allows, and shown masked (`ledger.banking.mask`).
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="bank_details"
    )
    iban = EncryptedTextField()
    bic = EncryptedTextField(blank=True)  # empty: none given, none derivable from the IBAN
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"Bank details of user {self.user_id}"


class RateUse(models.Model):
    """One allowed use of a rate-limited thing by one client (`ledger.ratelimit.hit`), when
    the deployment has no Redis: the uses of the last window are counted, one client at a
    time (a transaction-scoped lock per key), so every worker and server counts the same."""

    key = models.CharField(max_length=100)  # scope and hashed client
    at_ms = models.BigIntegerField()  # when, in milliseconds since the epoch
    expires_at = models.DateTimeField(db_index=True)  # when no window counts it any more

    class Meta:
        indexes = [models.Index(fields=["key", "at_ms"], name="rateuse_key_at")]

    def __str__(self):
        return f"{self.key} at {self.at_ms}"


class WritePosition(models.Model):
    """The primary's WAL position (bytes from 0/0) after a user's or session's last write,
    raised and read by `ledger.routing` (read-your-writes) when the deployment has no Redis:
    one atomic upsert keeps the highest, so two writes finishing together never leave the
    lower one behind."""

    key = models.CharField(primary_key=True, max_length=200)  # "user:<id>" or "session:<key>"
    position = models.BigIntegerField()  # bytes of WAL from 0/0
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.position}"
