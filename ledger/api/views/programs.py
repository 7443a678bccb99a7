"""Programs, their rate cards and members, and their transparency report."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from ledger import access, queries, routing, services
from ledger.models import (
    Invitation,
    Membership,
    Program,
    RateCard,
    StaffRole,
)

from .. import serializers as s
from ..idempotency import idempotent
from .common import request_body, require_permission, require_role


class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ProgramSerializer

    def get_queryset(self):
        programs = Program.objects.visible_to(self.request.user).order_by("id")
        if access.programs_where(self.request.user, access.Action.READ_PAYER_ACCOUNT) != set():
            programs = programs.prefetch_related("payer_account")  # one query, not one a row
        return programs

    # Alike ArtistViewSet.create in shape only: each create declares its own schema (read per
    # view by drf-spectacular) and calls its own service; the shared steps are one call each.
    @extend_schema(request=s.ProgramCreateSerializer, responses={201: s.ProgramSerializer})
    @idempotent
    def create(self, request):
        # A collection-level action: 403 without the operator-granted permission.
        require_permission(
            request,
            "ledger.add_program",
            "Creating a program needs the permission to add programs.",
        )
        fields = request_body(request, s.ProgramCreateSerializer)
        program = services.create_program(actor=request.user, **fields)
        return Response(
            s.ProgramSerializer(program, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=s.ProgramUpdateSerializer, responses=s.ProgramSerializer)
    def partial_update(self, request, pk=None):
        program = self.get_object()
        require_role(request, access.Action.MANAGE, program.pk)
        fields = request_body(request, s.ProgramUpdateSerializer, {"currency": program.currency})
        program = services.update_program(actor=request.user, program=program, **fields)
        return Response(s.ProgramSerializer(program, context={"request": request}).data)


class ProgramChildMixin:
    """Views under /programs/{program_id}/: the program must be visible to the caller.

    A view says which of the program's rows it lists in `program_rows(program)`.
    """

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is drawn without a program
            return self.serializer_class.Meta.model.objects.none()
        return self.program_rows(self.get_program())

    def get_program(self) -> Program:
        if not hasattr(self, "_program"):
            program = (
                Program.objects.visible_to(self.request.user)
                .filter(pk=self.kwargs["program_id"])
                .first()
            )
            if program is None:
                raise exceptions.NotFound("No such program.")
            self._program = program
        return self._program


class RateCardViewSet(
    ProgramChildMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A program's rate cards. Immutable: a later `effective_from` supersedes a card."""

    serializer_class = s.RateCardSerializer
    lookup_url_kwarg = "card_id"

    def program_rows(self, program):
        return (
            RateCard.objects.filter(program=program)
            .select_related("program")
            .order_by("effective_from")
        )

    @extend_schema(request=s.RateCardCreateSerializer, responses={201: s.RateCardSerializer})
    @idempotent
    def create(self, request, program_id):
        program = self.get_program()
        require_role(request, access.Action.MANAGE, program.pk)
        fields = request_body(request, s.RateCardCreateSerializer, {"currency": program.currency})
        card = services.add_rate_card(
            actor=request.user,
            program=program,
            effective_from=fields["effective_from"],
            hourly_rate_minor=fields["hourly_rate"],
            bounties=dict(fields["bug_bounties"]),
        )
        return Response(s.RateCardSerializer(card).data, status=status.HTTP_201_CREATED)

    @property
    def allowed_methods(self):
        # The `Allow` header names what a card answers; the edit handlers exist only to give
        # an edit a 404 (invisible card) or a 405 saying why.
        return [m for m in super().allowed_methods if m not in ("PUT", "PATCH", "DELETE")]

    def _immutable(self):
        self.get_object()  # an invisible card is a 404, as always
        raise exceptions.MethodNotAllowed(
            self.request.method, detail="Rate cards are immutable; publish a later card."
        )

    @extend_schema(exclude=True)  # not an operation: it only ever answers 405
    def update(self, request, *args, **kwargs):
        self._immutable()

    @extend_schema(exclude=True)  # not an operation: it only ever answers 405
    def partial_update(self, request, *args, **kwargs):
        self._immutable()

    @extend_schema(exclude=True)  # not an operation: it only ever answers 405
    def destroy(self, request, *args, **kwargs):
        self._immutable()


class MemberViewSet(ProgramChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A program's members (an artist sees only its own membership)."""

    serializer_class = s.MemberSerializer

    def program_rows(self, program):
        return (
            Membership.objects.visible_to(self.request.user).filter(program=program).order_by("id")
        )

    @extend_schema(request=s.MemberCreateSerializer, responses={201: s.MemberSerializer})
    @idempotent
    def create(self, request, program_id):
        program = self.get_program()
        require_role(request, access.Action.MANAGE, program.pk)
        fields = request_body(request, s.MemberCreateSerializer)
        membership = services.enroll_artist(
            actor=request.user, program=program, artist=fields["artist"]
        )
        return Response(s.MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class StaffViewSet(ProgramChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A program's staff: every staff role reads the list; a manager grants and revokes."""

    serializer_class = s.StaffSerializer
    lookup_url_kwarg = "staff_id"
    pagination_class = None  # a short list, answered whole

    def program_rows(self, program):
        require_role(self.request, access.Action.READ, program.pk)
        return StaffRole.objects.filter(program=program).select_related("user").order_by("id")

    @extend_schema(request=s.StaffCreateSerializer, responses={201: s.StaffSerializer})
    @idempotent
    def create(self, request, program_id):
        program = self.get_program()
        require_role(request, access.Action.MANAGE, program.pk)
        fields = request_body(request, s.StaffCreateSerializer)
        staff = services.grant_role(actor=request.user, program=program, **fields)
        return Response(s.StaffSerializer(staff).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, program_id, staff_id):
        staff = self.get_object()
        require_role(request, access.Action.MANAGE, staff.program_id)
        try:
            services.revoke_role(actor=request.user, staff=staff)
        except StaffRole.DoesNotExist:  # revoked by someone else meanwhile
            raise exceptions.NotFound("No such staff role.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(ProgramChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A program's invitations: its staff read them; a manager invites and revokes."""

    serializer_class = s.InvitationSerializer
    lookup_url_kwarg = "invitation_id"

    def program_rows(self, program):
        require_role(self.request, access.Action.READ, program.pk)
        return (
            Invitation.objects.visible_to(self.request.user)
            .filter(program=program)
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=s.InvitationCreateSerializer, responses={201: s.InvitationSerializer})
    @idempotent
    def create(self, request, program_id):
        program = self.get_program()
        require_role(request, access.Action.MANAGE, program.pk)
        fields = request_body(request, s.InvitationCreateSerializer)
        invitation = services.invite(actor=request.user, program=program, **fields)
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.InvitationSerializer)
    @idempotent
    def revoke(self, request, program_id, invitation_id):
        invitation = self.get_object()
        require_role(request, access.Action.MANAGE, invitation.program_id)
        invitation = services.revoke_invitation(actor=request.user, invitation=invitation)
        return Response(s.InvitationSerializer(invitation).data)


class ReportView(GenericAPIView):
    """A program's transparency figures. Its members and staff always read them; anyone
    reads a public program's, with the figures withheld from readers who are neither members
    nor staff while too few artists have contributed."""

    permission_classes = [AllowAny]
    serializer_class = s.ReportSerializer

    @extend_schema(
        responses=s.ReportSerializer,
        auth=[{"bearerAuth": []}, {"cookieAuth": []}, {}],
        summary="A program's transparency report",
    )
    @routing.replica_reads()
    def get(self, request, program_id):
        readable = queries.readable_report(request.user, program_id)
        if readable is None:
            raise exceptions.NotFound("No such program.")
        program, report, withheld = readable
        data = {
            "program": program.pk,
            "currency": program.currency,
            "withheld": withheld,
            "contributors": report.contributors,
            "feedback_hours": report.feedback_hours,
            "bug_reports_accepted": report.bug_reports_accepted,
            "valued": report.valued_minor,
            "paid": report.paid_minor,
            "paid_confirmed": report.paid_confirmed_minor,
            "grants": report.grants_minor,
            "settlements": report.settlements_minor,
            "outstanding": report.outstanding_minor,
            "paid_ahead": report.paid_ahead_minor,
            "paid_ratio": None if report.paid_ratio is None else str(report.paid_ratio),
            "median_days_to_payment": (
                None
                if report.median_days_to_payment is None
                else str(report.median_days_to_payment)
            ),
            "head_hash": report.head_hash,
            "reviews_overdue": report.reviews_overdue,
            "overdue_outstanding": report.overdue_outstanding_minor,
            "disputes_open": report.disputes_open,
            "disputes_upheld": report.disputes_upheld,
            "disputes_dismissed": report.disputes_dismissed,
        }
        if withheld:
            for key in data:
                if key not in ("program", "currency", "withheld", "head_hash"):
                    data[key] = None
        return Response(s.ReportSerializer(data).data)
