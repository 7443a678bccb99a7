"""Demo data: two programs (one public), 20 artists, a few hundred contributions, payouts and
a few disputes; and a small third program in euros that pays by bank transfer (payment files).

Idempotent: a second run finds the demo admin and only prints the logins again. Everything
goes through the services (with the clock set into the past), so the demo ledger is a real,
verifiable ledger with history spread over the last months.
"""

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from schwifty import IBAN

from accounts.models import User
from ledger import clock, services
from ledger.models import Contribution, ContributionKind, Payout, PayoutKind, Severity
from ledger.notifications import without_email

DEMO_PASSWORD = "ledger-demo-2026"  # noqa: S105 - a published demo login, not a secret
ADMIN_USERNAME = "admin"
ARTISTS = [
    "Ada Okafor", "Bruno Salas", "Chen Wei", "Dana Kowalski", "Emeka Obi", "Fatima Zahra",
    "Gustav Lind", "Hana Sato", "Iris Moreau", "Jonah Reyes", "Kalani Akana", "Lena Fischer",
    "Mateo Rossi", "Noor Haddad", "Olga Petrova", "Priya Nair", "Quinn Byrne", "Rosa Alves",
    "Sven Berg", "Tala Mendes",
]  # fmt: skip
TITLES = [
    "Brush lag on large canvases", "Layer panel crashes on undo", "Colour picker drifts",
    "Prompt ignores style reference", "Export loses alpha channel", "Session: inpainting UX",
    "Feedback on upscaler artefacts", "Tablet pressure curve resets", "Watermark in outputs",
    "Style transfer over-saturates", "Session: licensing terms review", "Grid snapping off by 1px",
]  # fmt: skip


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed, **options):
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write("Demo data already loaded.")
        else:
            # Months of history: each event leaves its notification in the inbox, mailed to
            # nobody.
            with transaction.atomic(), without_email():
                self._load(random.Random(seed))
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(
            f"Demo logins (password for all: {DEMO_PASSWORD}):\n"
            f"  operator (every role): {ADMIN_USERNAME}\n"
            "  reviewer: reviewer · treasurer: tessa · auditor (Aurora): audrey\n"
            "  artist: ada (also bruno, chen, … one per artist)\n"
            "  payment files (pain.001): Nimbus Beta (EUR), as tessa"
        )

    def _load(self, rng: random.Random) -> None:
        today = clock.today()
        start = today - dt.timedelta(days=300)
        at = dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC)
        password = make_password(DEMO_PASSWORD)  # hashed once: PBKDF2 is slow on purpose
        admin = services.create_user(
            actor=None, username=ADMIN_USERNAME, email="admin@example.org", password_hash=password,
            display_name="Program Admin", is_staff=True, is_superuser=True,
        )  # fmt: skip
        reviewer = services.create_user(
            actor=admin, username="reviewer", email="reviewer@example.org", password_hash=password,
            display_name="Second Reviewer",
        )  # fmt: skip
        treasurer = services.create_user(
            actor=admin, username="tessa", email="tessa@example.org", password_hash=password,
            display_name="Tessa Treasurer",
        )  # fmt: skip
        auditor = services.create_user(
            actor=admin, username="audrey", email="audrey@example.org", password_hash=password,
            display_name="Audrey Auditor",
        )  # fmt: skip
        artists = [
            services.create_user(
                actor=admin,
                username=name.split()[0].lower(),
                email=f"{name.split()[0].lower()}@example.org",
                password_hash=password,
                display_name=name,
            )
            for name in ARTISTS
        ]
        with clock.frozen(at):
            aurora = services.create_program(
                actor=admin, name="Aurora Early Access", currency="USD", public=True,
                description="Image model early-access program: bug bounties and paid feedback.",
            )  # fmt: skip
            kumo = services.create_program(
                actor=admin, name="Kumo Studio Preview", currency="JPY",
                description="Private preview of an animation assistant.",
            )  # fmt: skip
            services.add_rate_card(
                actor=admin, program=aurora, effective_from=start, hourly_rate_minor=4500,
                bounties={"low": 2500, "medium": 7500, "high": 20000, "critical": 50000},
            )  # fmt: skip
            services.add_rate_card(
                actor=admin, program=kumo, effective_from=start, hourly_rate_minor=6000,
                bounties={"low": 3000, "medium": 10000, "high": 30000, "critical": 80000},
            )  # fmt: skip
            for program in (aurora, kumo):
                services.grant_role(actor=admin, program=program, user=reviewer, role="reviewer")
                services.grant_role(actor=admin, program=program, user=treasurer, role="treasurer")
            services.grant_role(actor=admin, program=aurora, user=auditor, role="auditor")
            for artist in artists[:14]:
                services.enroll_artist(actor=admin, program=aurora, artist=artist)
            for artist in artists[8:]:
                services.enroll_artist(actor=admin, program=kumo, artist=artist)
        with clock.frozen(at + dt.timedelta(days=150)):
            services.add_rate_card(
                actor=admin, program=aurora, effective_from=start + dt.timedelta(days=150),
                hourly_rate_minor=5250,
                bounties={"low": 3000, "medium": 9000, "high": 25000, "critical": 60000},
            )  # fmt: skip

        members = {aurora: artists[:14], kumo: artists[8:]}
        for day_offset in range(300):
            day = start + dt.timedelta(days=day_offset)
            moment = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
            with clock.frozen(moment):
                for program, people in members.items():
                    if rng.random() < 0.6:
                        self._one_contribution(rng, program, rng.choice(people), day)
            if day_offset < 290:  # the last days stay in the review queue
                with clock.frozen(moment + dt.timedelta(hours=6)):
                    self._review_some(rng, admin, reviewer, day)
            if day_offset % 30 == 28:
                with clock.frozen(moment + dt.timedelta(hours=7)):
                    self._pay_some(rng, admin, members, day)
        self._disputes(admin, reviewer, aurora, kumo)
        self._confirm_some(rng)
        self._bank_transfers(admin, treasurer, artists, today)
        # From today, Aurora's payouts of $1,000 or more need a second treasurer: one waits.
        # The service answers with the program as saved; the old object still has no threshold.
        aurora = services.update_program(
            actor=admin, program=aurora, approval_threshold_minor=100_000
        )
        services.record_payout(
            actor=admin, artist=artists[0], program=aurora, amount_minor=120_000,
            kind=PayoutKind.GRANT, method="bank transfer", note="Quarterly grant.",
        )  # fmt: skip
        # Work of ada's left unreviewed past Aurora's review deadline (14 days): flagged on
        # her home, in the lists and the queue; `apply_deadlines` reminds the reviewers.
        with clock.frozen(
            dt.datetime.combine(today - dt.timedelta(days=18), dt.time(11), tzinfo=dt.UTC)
        ):
            services.submit_contribution(
                actor=artists[0], program=aurora, kind=ContributionKind.FEEDBACK,
                title="Inpainting edge halos", occurred_on=today - dt.timedelta(days=18),
                hours=Decimal("1.50"), description="Halo artefacts along inpainted edges.",
            )  # fmt: skip

    def _bank_transfers(self, admin, treasurer, artists, today):
        """Nimbus Beta pays in EUR from its own account: six members, five with an IBAN on
        file (well-known example IBANs, and ones generated with valid check digits), Fatima
        without. Two batches: two weeks ago, all with an IBAN (its pain.001 downloads); a week
        ago, Fatima included (the payment file is refused, naming her)."""
        week_ago, fortnight_ago = today - dt.timedelta(days=7), today - dt.timedelta(days=14)
        people = artists[:6]
        with clock.frozen(dt.datetime.combine(fortnight_ago, dt.time(9), tzinfo=dt.UTC)):
            nimbus = services.create_program(
                actor=admin, name="Nimbus Beta", currency="EUR",
                description="Video model beta: paid feedback, paid by SEPA transfer.",
            )  # fmt: skip
            services.add_rate_card(
                actor=admin, program=nimbus, effective_from=fortnight_ago, hourly_rate_minor=5000,
                bounties={"low": 2500, "medium": 7500, "high": 20000, "critical": 50000},
            )  # fmt: skip
            services.grant_role(actor=admin, program=nimbus, user=treasurer, role="treasurer")
            services.update_program(
                actor=admin, program=nimbus, payer_name="Nimbus Labs GmbH",
                payer_iban="DE02120300000000202051",
            )  # fmt: skip
            for artist in people:
                services.enroll_artist(actor=admin, program=nimbus, artist=artist)
            ibans = [
                "DE89370400440532013000",
                "NL91ABNA0417164300",
                "FR1420041010050500013M02606",
                *(
                    str(IBAN.generate("DE", bank_code="37040044", account_code=f"{n:010d}"))
                    for n in (1234567890, 2345678901)
                ),
            ]
            for artist, iban in zip(people[:5], ibans, strict=True):
                services.set_bank_details(actor=artist, user=artist, iban=iban)
        for day, paid in ((fortnight_ago, people[:5]), (week_ago, people)):
            with clock.frozen(dt.datetime.combine(day, dt.time(15), tzinfo=dt.UTC)):
                for artist in paid:
                    services.record_payout(
                        actor=treasurer, artist=artist, program=nimbus, amount_minor=15000,
                        kind=PayoutKind.GRANT, paid_on=day, method="bank transfer",
                        reference=f"NIMBUS-{day:%Y%m%d}-{artist.pk}",
                    )  # fmt: skip

    def _disputes(self, admin, reviewer, aurora, kumo):
        """A few disputes about the operator's recent decisions (inside the 30-day window), no
        randomness: an upheld rejection, an upheld valuation (an adjustment entry), a dismissed
        rejection, and an undervalued session and a payout never received waiting in the
        queue (for `reviewer` and `tessa`)."""
        since = clock.now() - dt.timedelta(days=29)
        by_admin = Contribution.objects.filter(reviewed_by=admin, reviewed_at__gte=since)
        latest = by_admin.order_by("-reviewed_at", "-id")

        def dispute(subject, claim, statement):
            return services.open_dispute(
                actor=subject.artist, subject=subject, claim=claim, statement=statement
            )

        rejected = latest.filter(program=aurora, status="rejected").first()
        if rejected is not None:
            services.uphold_dispute(
                dispute=dispute(rejected, "rejection", "Not a duplicate: a different screen."),
                actor=reviewer,
                note="Checked: a different screen, so a different bug.",
            )
        bug = latest.filter(
            program=aurora, status="accepted", kind=ContributionKind.BUG_REPORT,
            severity__in=[Severity.LOW, Severity.MEDIUM],
        ).first()  # fmt: skip
        if bug is not None:
            higher = Severity.HIGH if bug.severity == Severity.MEDIUM else Severity.MEDIUM
            services.uphold_dispute(
                dispute=dispute(bug, "valuation", "It loses work: that is more than minor."),
                actor=reviewer,
                note="Agreed: data loss.",
                severity=higher,
            )
        session = latest.filter(
            program=aurora, status="accepted", kind=ContributionKind.FEEDBACK
        ).first()
        if session is not None:
            dispute(session, "valuation", "The session ran an hour longer than logged.")
        kumo_rejected = latest.filter(program=kumo, status="rejected").first()
        if kumo_rejected is not None:
            services.dismiss_dispute(
                dispute=dispute(kumo_rejected, "rejection", "Please look again."),
                actor=reviewer,
                note="It is the same crash as the earlier report.",
            )
        payout = (
            Payout.objects.filter(
                program=aurora, status="paid", created_by=admin, created_at__gte=since
            )
            .order_by("-created_at", "-id")
            .first()
        )
        if payout is not None:
            dispute(payout, "not_received", "Nothing arrived in my account.")

    def _confirm_some(self, rng):
        """Most artists confirmed most payments they received; the rest stay unconfirmed, so
        the pages show both."""
        paid = Payout.objects.filter(status="paid", disputes__isnull=True).order_by("id")
        for payout in paid.select_related("artist"):
            if rng.random() < 0.7:
                services.confirm_payout(payout=payout, actor=payout.artist)

    def _one_contribution(self, rng, program, artist, day):
        if rng.random() < 0.5:
            services.submit_contribution(
                actor=artist, program=program, kind=ContributionKind.FEEDBACK,
                title=rng.choice(TITLES), occurred_on=day,
                hours=Decimal(rng.choice(["0.50", "1.00", "1.25", "2.00", "2.50", "3.75", "4.00"])),
                description="Notes from a feedback session.",
            )  # fmt: skip
        else:
            services.submit_contribution(
                actor=artist, program=program, kind=ContributionKind.BUG_REPORT,
                title=rng.choice(TITLES), occurred_on=day,
                severity=rng.choices(Severity.values, weights=[5, 4, 2, 1])[0],
                reference=f"https://tracker.example.org/issues/{rng.randint(100, 9999)}",
                description="Steps to reproduce are in the linked ticket.",
            )  # fmt: skip

    def _review_some(self, rng, admin, reviewer, day):
        cutoff = day - dt.timedelta(days=4)
        queue = Contribution.objects.pending().filter(occurred_on__lte=cutoff).order_by("id")
        for contribution in queue[:3]:
            roll = rng.random()
            who = admin if rng.random() < 0.7 else reviewer
            if roll < 0.75:
                services.accept_contribution(contribution=contribution, actor=who)
            elif roll < 0.9:
                services.reject_contribution(
                    contribution=contribution,
                    actor=who,
                    reason="Duplicate of an earlier report.",
                )
            else:
                services.withdraw_contribution(contribution=contribution, actor=contribution.artist)
        accepted = Contribution.objects.accepted().order_by("id")
        if rng.random() < 0.02 and accepted.exists():
            victim = accepted[rng.randrange(accepted.count())]
            services.reverse_contribution(
                contribution=victim, actor=admin, reason="Found to be a known issue."
            )

    def _pay_some(self, rng, admin, members, day):
        for program, people in members.items():
            for artist in people:
                membership = artist.memberships.get(program=program)
                owed = membership.outstanding_minor
                roll = rng.random()
                if roll < 0.25:
                    amount = 10000 if program.currency == "USD" else 20000
                    payout = services.record_payout(
                        actor=admin, artist=artist, program=program, amount_minor=amount,
                        kind="grant", paid_on=day, method="bank transfer",
                        reference=f"GRANT-{day:%Y%m}-{artist.pk}",
                    )  # fmt: skip
                    if rng.random() < 0.1:
                        services.void_payout(payout=payout, actor=admin, reason="Sent twice.")
                elif roll < 0.75 and owed > 0:
                    services.record_payout(
                        actor=admin, artist=artist, program=program,
                        amount_minor=max(1, owed // rng.choice([1, 2, 3])), kind="settlement",
                        paid_on=day, method="bank transfer",
                        reference=f"SET-{day:%Y%m}-{artist.pk}",
                    )  # fmt: skip
