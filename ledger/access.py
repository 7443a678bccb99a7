"""Who sees what: the one home of visibility and of the report's withholding.

Every read that scopes rows to a reader goes through `scope_of(user)`: the models' named
`visible_to` QuerySet methods render it as a `Q`, the plain-SQL lists in `queries` render the
same scope as a SQL condition, so a new role changes this module and nothing else. Both
renderings live here, side by side, because the hottest API lists are plain SQL (compiling the
ORM query cost more than the database's answer, docs/PERFORMANCE.md); tests compare them.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q


@dataclass(frozen=True)
class Scope:
    """The rows a reader may see: all of them, or only those about one artist, or none."""

    everything: bool = False
    artist_id: int | None = None  # set for an artist: only rows about this artist

    def q(self, artist: str = "artist") -> Q:
        """A filter for a queryset whose rows name their artist through the lookup `artist`."""
        if self.everything:
            return Q()
        if self.artist_id is None:
            return Q(pk__in=[])
        return Q(**{f"{artist}_id": self.artist_id})

    def sql(self, artist_column: str) -> list[tuple[str, object]]:
        """The same filter as `(SQL, parameter)` conditions for `queries.SqlRows`.

        `artist_column` is constant SQL written by the caller, never user input.
        """
        if self.everything:
            return []
        if self.artist_id is None:
            return [("1 = %s", 0)]
        return [(f"{artist_column} = %s", self.artist_id)]

    def sees_artist(self, artist_id) -> bool:
        """Whether rows about `artist_id` are in the scope."""
        return self.everything or (self.artist_id is not None and self.artist_id == artist_id)


NOTHING = Scope()


def is_staff(user) -> bool:
    """Staff review and pay in every program (a Django superuser always is staff)."""
    return bool(user is not None and user.is_authenticated and user.is_admin)


def scope_of(user) -> Scope:
    """Staff see every row; an artist the rows about itself; an anonymous reader none."""
    if is_staff(user):
        return Scope(everything=True)
    if user is None or not user.is_authenticated:
        return NOTHING
    return Scope(artist_id=user.pk)


def is_insider(user, program) -> bool:
    """A member or staff of `program`: a reader who always sees its report's figures."""
    if is_staff(user):
        return True
    if user is None or not user.is_authenticated:
        return False
    return program.memberships.filter(artist=user).exists()


def report_withheld(*, insider: bool, contributors: int) -> bool:
    """Whether a program's report figures are withheld from this reader.

    While fewer than `LEDGER_REPORT_MIN_CONTRIBUTORS` artists have accepted work, figures could
    single one of them out, so only the program's members and staff (insiders) see them; every
    other reader, signed in or not, sees that they are withheld.
    """
    return not insider and contributors < settings.LEDGER_REPORT_MIN_CONTRIBUTORS
