"""Two programs with their artists and staff, for the routes × roles tests.

Program A (USD, private, payouts of 1,000.00 or more need a second treasurer) has two members
(`artist`, `peer`) and one person per staff role (a second treasurer and, once asked for, a
second reviewer make the decisions the first ones decide disputes about); program B (EUR) has
its own member (`artist_b`) and one person (`staff_b`) holding all four roles there and none in
A. The
operator (a superuser) created both. Each program has accepted work, a pending contribution,
a grant and an open dispute, so every list has rows of both programs to hide or show.
"""

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tokens import issue_token
from ledger import access, services
from ledger.models import Contribution, Dispute, NotificationKind, Payout, Program, StaffRole
from ledger.notifications import notify
from ledger.services import imports
from tests.conftest import CARD_FROM, accepted_work, log_feedback, make_program
from tests.factories import UserFactory

IMPORT_HEADER = "artist,kind,title,occurred_on,hours,severity,reference,description\n"


def csv_upload(rows: str = "") -> SimpleUploadedFile:
    """A CSV file for a bulk import (the header, then `rows`)."""
    return SimpleUploadedFile("work.csv", (IMPORT_HEADER + rows).encode(), "text/csv")


# The callers of every route, in the order of the matrix's columns.
CALLERS = (
    "anon",  # no credentials
    "artist",  # a member of A; the objects the routes act on are its own
    "peer",  # another member of A
    "artist_b",  # a member of B only
    "manager",  # the staff of A, one role each
    "reviewer",
    "treasurer",
    "auditor",
    "staff_b",  # manager, reviewer, treasurer and auditor of B, nothing in A
    "operator",  # a superuser
)
STAFF_A = ("manager", "reviewer", "treasurer", "auditor")

THRESHOLD_MINOR = 100_000  # A's approval threshold: 1,000.00 USD


@dataclass
class World:
    """The people and objects of programs A and B (see the module docstring)."""

    people: dict
    a: Program
    b: Program
    treasurer2: object  # a second treasurer of A: proposes what `treasurer` decides
    objects: dict = field(default_factory=dict)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __getattr__(self, name):
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)

    def next(self) -> int:
        """A number not used before in this world (unique names, dates)."""
        return next(self._counter)

    # Fresh objects of A, for writes that must not spoil the next call.
    def submitted(self) -> Contribution:
        return log_feedback(self.a, self.artist, hours="1.00")

    def accepted(self) -> Contribution:
        return accepted_work(self.a, self.artist, self.operator, hours="1.00")

    def paid_grant(self) -> Payout:
        return services.record_payout(
            actor=self.operator, artist=self.artist, program=self.a, amount_minor=100, kind="grant"
        )

    def proposal(self, amount_minor=THRESHOLD_MINOR, kind="grant") -> Payout:
        """A payout of A proposed by the second treasurer, waiting for another's decision."""
        payout = services.record_payout(
            actor=self.treasurer2,
            artist=self.artist,
            program=self.a,
            amount_minor=amount_minor,
            kind=kind,
        )
        assert payout.status == "proposed"
        return payout

    def reviewer2(self):
        """A second reviewer of A: makes the decisions that `reviewer` decides disputes of."""
        if "reviewer2" not in self.objects:
            person = UserFactory(username="w-reviewer2")
            services.grant_role(actor=self.operator, program=self.a, user=person, role="reviewer")
            self.objects["reviewer2"] = person
        return self.objects["reviewer2"]

    def rejected(self) -> Contribution:
        """Fresh work of `artist` in A, rejected by the second reviewer."""
        return services.reject_contribution(
            contribution=self.submitted(), actor=self.reviewer2(), reason="Out of scope"
        )

    def disputed_rejection(self) -> Dispute:
        """The artist's open dispute about work the second reviewer rejected."""
        return services.open_dispute(
            actor=self.artist, subject=self.rejected(), claim="rejection", statement="In scope."
        )

    def disputed_payout(self) -> Dispute:
        """The artist's open dispute about a grant the second treasurer paid (never arrived)."""
        payout = services.record_payout(
            actor=self.treasurer2, artist=self.artist, program=self.a, amount_minor=100,
            kind="grant",
        )  # fmt: skip
        return services.open_dispute(
            actor=self.artist, subject=payout, claim="not_received", statement="Not arrived."
        )

    def staff_row(self) -> StaffRole:
        return services.grant_role(
            actor=self.operator, program=self.a, user=UserFactory(), role="auditor"
        )

    def invitation(self):
        """A fresh pending invitation to A, sent by its operator."""
        return services.invite(
            actor=self.operator, program=self.a, email=f"invited{self.next()}@example.org"
        )

    def webhook(self):
        """A fresh webhook subscription of A (to a public address literal: never contacted,
        as nothing commits in these tests)."""
        return services.create_subscription(
            actor=self.operator,
            program=self.a,
            url="https://93.184.215.14/hooks",
            events=["contribution.submitted"],
        )

    def webhook_delivery(self):
        """A fresh subscription of A with one delivery waiting (a contribution submitted)."""
        subscription = self.webhook()
        log_feedback(self.a, self.artist)
        return subscription.deliveries.get()

    def notification(self):
        """A fresh notification in the artist's inbox (a grant paid to it)."""
        return notify(
            user=self.artist,
            kind=NotificationKind.PAYOUT_RECORDED,
            message="A grant was paid to you.",
            subject=self.objects["grant"],
            program=self.a,
        )

    def import_job(self):
        """An import into A started by its reviewer (a dry run, queued)."""
        if "import" not in self.objects:
            self.objects["import"] = imports.start_import(
                actor=self.reviewer, program=self.a, upload=csv_upload(), dry_run=True
            )
        return self.objects["import"]

    def artist_token(self):
        return issue_token(user=self.artist, name="spare")[0]

    def card_date(self) -> str:
        return (CARD_FROM + dt.timedelta(days=self.next())).isoformat()

    def enrollable(self):
        """A user A's manager may enrol: a member of program C, which it also manages."""
        if "c" not in self.objects:
            c = make_program(self.operator, currency="GBP")
            services.grant_role(actor=self.operator, program=c, user=self.manager, role="manager")
            self.objects["c"] = c
        user = UserFactory()
        services.enroll_artist(actor=self.operator, program=self.objects["c"], artist=user)
        return user


def build_world() -> World:
    """Programs A and B, their people and a few rows each (see the module docstring)."""
    people = {name: UserFactory(username=f"w-{name}") for name in CALLERS if name != "anon"}
    people["anon"] = None
    operator = people["operator"]
    operator.is_superuser = True
    operator.save(update_fields=["is_superuser"])
    treasurer2 = UserFactory(username="w-treasurer2")

    a = make_program(operator, currency="USD")
    b = make_program(operator, currency="EUR")
    a = services.update_program(actor=operator, program=a, approval_threshold_minor=THRESHOLD_MINOR)
    for name in ("artist", "peer"):
        services.enroll_artist(actor=operator, program=a, artist=people[name])
    services.enroll_artist(actor=operator, program=b, artist=people["artist_b"])
    for role in STAFF_A:
        services.grant_role(actor=operator, program=a, user=people[role], role=role)
    services.grant_role(actor=operator, program=a, user=treasurer2, role="treasurer")
    for role in access.ROLES:
        services.grant_role(actor=operator, program=b, user=people["staff_b"], role=role)

    world = World(people=people, a=a, b=b, treasurer2=treasurer2)
    objects = world.objects
    objects["work"] = accepted_work(a, people["artist"], operator, hours="2.00")  # 90.00 owed
    objects["pending"] = log_feedback(a, people["artist"])
    objects["peer_work"] = accepted_work(a, people["peer"], operator)
    objects["grant"] = world.paid_grant()
    objects["b_work"] = accepted_work(b, people["artist_b"], operator)
    objects["b_pending"] = log_feedback(b, people["artist_b"])
    objects["b_grant"] = services.record_payout(
        actor=operator, artist=people["artist_b"], program=b, amount_minor=500, kind="grant"
    )
    objects["dispute"] = world.disputed_rejection()
    b_rejected = services.reject_contribution(
        contribution=log_feedback(b, people["artist_b"]), actor=operator, reason="Out of scope"
    )
    objects["b_dispute"] = services.open_dispute(
        actor=people["artist_b"], subject=b_rejected, claim="rejection", statement="In scope."
    )
    return world
