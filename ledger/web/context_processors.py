"""What every page's navigation knows about the signed-in user, read from `ledger.access`.

The one place pages learn which parts of the site a user may use: templates test `nav.review`
or `nav.pay`, never a role. Each flag is read on first use (one query per request at most:
`access.roles_of` keeps the user's roles on the user object), so a page that shows no
navigation (a download, an htmx fragment) pays nothing. `nav.unread`, the inbox's unread
count, is one more query on the pages that show it.
"""

from functools import cached_property

from ledger import access, queries


class Nav:
    """Which parts of the site `user` may use."""

    def __init__(self, user):
        self.user = user

    def _somewhere(self, action: access.Action) -> bool:
        where = access.programs_where(self.user, action)
        return where is None or bool(where)

    @cached_property
    def staff(self) -> bool:
        """Staff of some program (reads its books: balances, payouts, exports)."""
        return access.is_staff(self.user)

    @cached_property
    def review(self) -> bool:
        """A reviewer somewhere: the review queue."""
        return self._somewhere(access.Action.REVIEW)

    @cached_property
    def pay(self) -> bool:
        """A treasurer somewhere: the pay page and the proposals queue."""
        return self._somewhere(access.Action.PAY)

    @cached_property
    def manage(self) -> bool:
        """A manager somewhere: programs' staff and settings pages."""
        return self._somewhere(access.Action.MANAGE)

    @cached_property
    def unread(self) -> int:
        """How many of the user's notifications are unread (one query, on first use)."""
        return queries.unread_count(self.user)

    @cached_property
    def create_programs(self) -> bool:
        """Holds the permission to create programs."""
        return access.has_permission(self.user, "ledger.add_program")


def navigation(request):
    """`nav`: the signed-in user's parts of the site (see `Nav`)."""
    return {"nav": Nav(getattr(request, "user", None))}
