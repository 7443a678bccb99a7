"""API authentication: `Authorization: Bearer <token>` (hashed tokens) and session login.

A token's secret is shown once, at creation; the database keeps only its SHA-256, so a
leaked database does not leak working tokens. A session counts only once it has passed the
second factor it owes (`accounts.second_factor.due`), as on the pages.
"""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts import second_factor
from accounts.models import ApiToken, User
from accounts.tokens import hash_token, issue_token  # noqa: F401 (issue_token re-exported)
from ledger import access

# last_used_at is refreshed at most this often, so reads do not all become writes.
_LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


# The user of a live token (not revoked, not expired) whose user is active, with the token's
# id and whether its last_used_at is due a refresh. Parameters: stale-before time, key hash,
# now. Plain SQL: every API request runs it, and compiling the equivalent ORM query
# (`ApiToken.objects.live().select_related("user")`) cost about 1 ms, and `User.objects.raw`
# still 0.3 ms more than this (docs/PERFORMANCE.md). The user comes back with the columns
# below, which need no conversion on either database; its password and timestamps load on
# use (nothing in an API request reads them). In the model's field order, as `from_db` needs.
USER_COLUMNS = [
    "id",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "display_name",
]
# The user's roles come in the same statement, a row per role (`ledger.access.ROLES_JOIN`):
# every request needs them, and a statement of their own cost 0.27 ms of CPU (client and
# server) a request.
_AUTH_SQL = (  # constant SQL: the roles' join and columns are constants of ledger.access
    "SELECT u.id, u.is_superuser, u.username, u.first_name, u.last_name, u.email, u.is_staff, "  # noqa: S608  # nosec B608
    "u.is_active, u.display_name, t.id, "
    f"(t.last_used_at IS NULL OR t.last_used_at < %s), {access.ROLES_COLUMNS} "
    f"FROM accounts_apitoken t JOIN accounts_user u ON u.id = t.user_id {access.ROLES_JOIN} "
    "WHERE t.key_hash = %s AND NOT t.revoked "
    "AND (t.expires_at IS NULL OR t.expires_at > %s) AND u.is_active"
)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Malformed token.") from None
        now = timezone.now()
        adapt = connection.ops.adapt_datetimefield_value  # as the ORM passes datetimes
        params = [adapt(now - _LAST_USED_GRANULARITY), hash_token(secret), adapt(now)]
        with connection.cursor() as cursor:
            cursor.execute(_AUTH_SQL, params)
            rows = cursor.fetchall()
        if not rows:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        *user_values, token_id, stale, _, _ = rows[0]
        user = User.from_db(connection.alias, USER_COLUMNS, [*user_values])
        access.keep_roles(user, [row[-2:] for row in rows])
        if stale:
            ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
        # request.auth: the token, only its id loaded (nothing reads more of it).
        return user, ApiToken(pk=token_id, user=user)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ledger.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A token from /auth/tokens/."}


class SessionAuthentication(authentication.SessionAuthentication):
    """The pages' session cookie, once the session may act: a staff session that still owes
    its second factor (`LEDGER_STAFF_REQUIRE_2FA`) is not signed in here, as it reaches no
    page either (`ledger.web.middleware.StaffSecondFactorMiddleware`)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and second_factor.due(result[0]) is not None:
            return None
        return result


class SessionScheme(OpenApiAuthenticationExtension):
    """The session cookie in the schema, under the name drf-spectacular gives DRF's own."""

    target_class = "ledger.api.auth.SessionAuthentication"
    name = "cookieAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
