"""Users: artists who log work and admins who review and pay it."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    ARTIST = "artist", "Artist"
    ADMIN = "admin", "Admin"


class UserQuerySet(models.QuerySet):
    def artists(self):
        return self.filter(role=Role.ARTIST, is_active=True)

    def admins(self):
        return self.filter(role=Role.ADMIN)


class LedgerUserManager(UserManager.from_queryset(UserQuerySet)):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person with a role. A superuser is always an admin (`save` keeps that true)."""

    display_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ARTIST)

    objects = LedgerUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["artist", "admin"]), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(is_superuser=True) | models.Q(role="admin"),
                name="superuser_is_admin",
            ),
        ]

    def __str__(self):
        return self.display_name or self.username

    def save(self, *args, **kwargs):
        if self.is_superuser:
            self.role = Role.ADMIN
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

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_artist(self) -> bool:
        return not self.is_admin


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
