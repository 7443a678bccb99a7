"""REST API v1: thin views over the services (writes) and queries (reads).

Each view scopes its queryset to what the caller may see (`visible_to`), so an invisible
object is a 404 whatever the action; role checks come after and answer 403. Every
authenticated POST goes through `@idempotent`. Domain errors are translated once, in
`errors.exception_handler`.
"""

from django.contrib.auth import authenticate
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, Role, User
from ledger import access, queries, services
from ledger.exports import downloads
from ledger.exports.checkpoint import verify_statement
from ledger.models import (
    Contribution,
    Membership,
    Payout,
    Program,
    RateCard,
)
from ledger.params import parse_id
from ledger.verify import verify_program

from . import serializers as s
from .auth import issue_token
from .idempotency import idempotent
from .pagination import EntryCursorPagination
from .permissions import IsAdminRole, is_admin
from .throttling import TokenCreationThrottle


def query_params(request, serializer_class) -> dict:
    """Validate query parameters with a serializer (400 naming the parameter)."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def require_admin(request) -> None:
    if not is_admin(request.user):
        raise exceptions.PermissionDenied("Only an admin may do this.")


# The two mixins below carry comments, not docstrings: drf-spectacular would publish a
# docstring as the description of every operation of the views using them.


class RowListMixin:
    # `list` over rows: the view's queryset as its serializer's `rows()`, rendered by a
    # `RowSerializer` (see serializers.py for why).

    def list(self, request, *args, **kwargs):
        serializer_class = self.get_serializer_class()
        rows = serializer_class.rows(self.filter_queryset(self.get_queryset()))
        page = serializer_class.load(self.paginate_queryset(rows))
        return self.get_paginated_response(serializer_class(page, many=True).data)


# --- Auth and identity ----------------------------------------------------------------------


class TokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """API tokens: create with a username and password; list and revoke your own."""

    serializer_class = s.TokenSerializer

    def _creating(self) -> bool:
        # action_map, not action: the authenticators are read before DRF sets self.action.
        return (
            self.request is not None
            and self.request.method == "POST"
            and getattr(self, "action_map", {}).get("post") == "create"
        )

    def get_authenticators(self):
        # Creating a token authenticates with the credentials in the body, nothing else
        # (and so needs no CSRF token).
        if self._creating():
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if self._creating():
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_throttles(self):
        if self._creating():
            return [TokenCreationThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        if not self.request.user.is_authenticated:
            return ApiToken.objects.none()
        return ApiToken.objects.live().filter(user=self.request.user)

    @extend_schema(
        request=s.TokenCreateSerializer,
        responses={201: s.TokenCreatedSerializer},
        auth=[],
        summary="Create an API token from a username and password",
    )
    def create(self, request):
        form = s.TokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            raise exceptions.AuthenticationFailed("Bad username or password.")
        token, secret = issue_token(user=user, name=data["name"])
        token.token = secret
        response = Response(s.TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # the secret must not rest in any cache
        return response

    @extend_schema(responses=s.TokenSerializer(many=True), summary="Your live tokens")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={204: None}, summary="Revoke a token")
    def destroy(self, request, *args, **kwargs):
        token = self.get_object()
        services.revoke_token(actor=request.user, token_id=token.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: s.TokensRevokedSerializer},
        summary="Revoke all your tokens (the one making this request too)",
    )
    @action(detail=False, methods=["post"], url_path="revoke-all")
    @idempotent
    def revoke_all(self, request):
        return Response({"revoked": services.revoke_all_tokens(actor=request.user)})


class MeView(GenericAPIView):
    serializer_class = s.MeSerializer

    @extend_schema(responses=s.MeSerializer, summary="The caller")
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


# --- Artists --------------------------------------------------------------------------------


class ArtistViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ArtistSerializer

    def get_queryset(self):
        artists = User.objects.filter(role=Role.ARTIST).order_by("id")
        if is_admin(self.request.user):
            return artists
        return artists.filter(pk=self.request.user.pk)

    @extend_schema(request=s.ArtistCreateSerializer, responses={201: s.ArtistSerializer})
    @idempotent
    def create(self, request):
        require_admin(request)  # a collection-level action: 403 for artists
        data = s.ArtistCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.create_artist(actor=request.user, **data.validated_data)
        return Response(s.ArtistSerializer(user).data, status=status.HTTP_201_CREATED)


# --- Programs, rate cards, members, report --------------------------------------------------


class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ProgramSerializer

    def get_queryset(self):
        return Program.objects.visible_to(self.request.user).order_by("id")

    @extend_schema(request=s.ProgramCreateSerializer, responses={201: s.ProgramSerializer})
    @idempotent
    def create(self, request):
        require_admin(request)  # a collection-level action: 403 for artists
        data = s.ProgramCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        program = services.create_program(actor=request.user, **data.validated_data)
        return Response(s.ProgramSerializer(program).data, status=status.HTTP_201_CREATED)


class ProgramChildMixin:
    """Views under /programs/{program_id}/: the program must be visible to the caller."""

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

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RateCard.objects.none()
        return (
            RateCard.objects.filter(program=self.get_program())
            .select_related("program")
            .order_by("effective_from")
        )

    @extend_schema(request=s.RateCardCreateSerializer, responses={201: s.RateCardSerializer})
    @idempotent
    def create(self, request, program_id):
        program = self.get_program()
        require_admin(request)
        data = s.RateCardCreateSerializer(data=request.data, context={"currency": program.currency})
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        card = services.add_rate_card(
            actor=request.user,
            program=program,
            effective_from=fields["effective_from"],
            hourly_rate_minor=fields["hourly_rate"],
            bounties=dict(fields["bug_bounties"]),
        )
        return Response(s.RateCardSerializer(card).data, status=status.HTTP_201_CREATED)

    def _immutable(self):
        self.get_object()  # an invisible card is a 404, as always
        raise exceptions.MethodNotAllowed(
            self.request.method, detail="Rate cards are immutable; publish a later card."
        )

    @extend_schema(
        request=None, responses={405: OpenApiResponse(description="Rate cards are immutable.")}
    )
    def update(self, request, *args, **kwargs):
        self._immutable()

    @extend_schema(
        request=None, responses={405: OpenApiResponse(description="Rate cards are immutable.")}
    )
    def partial_update(self, request, *args, **kwargs):
        self._immutable()

    @extend_schema(
        request=None, responses={405: OpenApiResponse(description="Rate cards are immutable.")}
    )
    def destroy(self, request, *args, **kwargs):
        self._immutable()


class MemberViewSet(ProgramChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A program's members (an artist sees only its own membership)."""

    serializer_class = s.MemberSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return (
            Membership.objects.visible_to(self.request.user)
            .filter(program=self.get_program())
            .order_by("id")
        )

    @extend_schema(request=s.MemberCreateSerializer, responses={201: s.MemberSerializer})
    @idempotent
    def create(self, request, program_id):
        program = self.get_program()
        require_admin(request)
        data = s.MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.enroll_artist(
            actor=request.user, program=program, artist=data.validated_data["artist"]
        )
        return Response(s.MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


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
        }
        if withheld:
            for key in data:
                if key not in ("program", "currency", "withheld", "head_hash"):
                    data[key] = None
        return Response(s.ReportSerializer(data).data)


# --- Contributions --------------------------------------------------------------------------


class ContributionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ContributionSerializer

    def get_queryset(self):
        return Contribution.objects.visible_to(self.request.user).order_by("-submitted_at", "-id")

    @extend_schema(parameters=[s.ContributionFilterSerializer])
    def list(self, request, *args, **kwargs):
        # Pages, the detail and the review actions' answers: rows of queries.contribution_rows.
        filters = query_params(request, s.ContributionFilterSerializer)
        page = self.paginate_queryset(queries.contribution_rows(request.user, **filters))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._render(pk)

    @extend_schema(
        request=s.ContributionCreateSerializer, responses={201: s.ContributionSerializer}
    )
    @idempotent
    def create(self, request):
        data = s.ContributionCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        contribution = services.submit_contribution(actor=request.user, **data.validated_data)
        return self._render(contribution.pk, status.HTTP_201_CREATED)

    def _render(self, pk, code=status.HTTP_200_OK):
        """One contribution the caller sees, as a row of the list (404 otherwise)."""
        pk = parse_id(pk)
        if pk is None:
            raise exceptions.NotFound()
        rows = queries.contribution_rows(self.request.user, id=pk)[0:1]
        if not rows:
            raise exceptions.NotFound()
        return Response(s.ContributionSerializer(rows[0]).data, status=code)

    def _review_target(self, request):
        contribution = self.get_object()  # 404 before 403
        require_admin(request)
        return contribution

    @extend_schema(request=s.AcceptSerializer, responses=s.ContributionSerializer)
    @idempotent
    def accept(self, request, pk=None):
        contribution = self._review_target(request)
        data = s.AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contribution = services.accept_contribution(
            contribution=contribution, actor=request.user, **data.validated_data
        )
        return self._render(contribution.pk)

    @extend_schema(request=s.ReasonSerializer, responses=s.ContributionSerializer)
    @idempotent
    def reject(self, request, pk=None):
        contribution = self._review_target(request)
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contribution = services.reject_contribution(
            contribution=contribution, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._render(contribution.pk)

    @extend_schema(request=s.ReasonSerializer, responses=s.ContributionSerializer)
    @idempotent
    def reverse(self, request, pk=None):
        contribution = self._review_target(request)
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contribution = services.reverse_contribution(
            contribution=contribution, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._render(contribution.pk)

    @extend_schema(request=None, responses=s.ContributionSerializer)
    @idempotent
    def withdraw(self, request, pk=None):
        contribution = self.get_object()
        contribution = services.withdraw_contribution(contribution=contribution, actor=request.user)
        return self._render(contribution.pk)


# --- Payouts --------------------------------------------------------------------------------


class PayoutViewSet(RowListMixin, viewsets.GenericViewSet):
    serializer_class = s.PayoutSerializer

    def get_queryset(self):
        queryset = Payout.objects.visible_to(self.request.user).order_by("-paid_on", "-id")
        if self.action == "list":
            filters = query_params(self.request, s.PayoutFilterSerializer)
            for name in ("artist", "program", "kind"):
                if name in filters:
                    key = f"{name}_id" if name in ("program", "artist") else name
                    queryset = queryset.filter(**{key: filters[name]})
        return queryset

    @extend_schema(parameters=[s.PayoutFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.PayoutCreateSerializer, responses={201: s.PayoutSerializer})
    @idempotent
    def create(self, request):
        require_admin(request)  # a collection-level action: 403 for artists
        data = s.PayoutCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        payout = services.record_payout(
            actor=request.user,
            artist=fields["artist"],
            program=fields["program"],
            amount_minor=fields["amount_minor"],
            kind=fields["kind"],
            paid_on=fields["paid_on"],
            method=fields["method"],
            reference=fields["reference"],
            note=fields["note"],
        )
        return self._render(payout, status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return self._render(self.get_object())

    def _render(self, payout, code=status.HTTP_200_OK):
        """The payout as a row of the list."""
        row = s.PayoutSerializer.rows(Payout.objects.filter(pk=payout.pk)).get()
        return Response(s.PayoutSerializer(row).data, status=code)

    @extend_schema(request=s.ReasonSerializer, responses=s.PayoutSerializer)
    @idempotent
    def void(self, request, pk=None):
        payout = self.get_object()
        require_admin(request)
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.void_payout(
            payout=payout, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._render(payout)


# --- Balances and statements ----------------------------------------------------------------


class BalanceViewSet(RowListMixin, viewsets.GenericViewSet):
    """One row per membership, zero rows included."""

    serializer_class = s.BalanceSerializer

    def get_queryset(self):
        filters = query_params(self.request, s.BalanceFilterSerializer)
        return queries.balance_rows(
            self.request.user, artist_id=filters.get("artist"), program_id=filters.get("program")
        )

    @extend_schema(parameters=[s.BalanceFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PDFRenderer(CSVRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None


class PlainTextRenderer(CSVRenderer):
    media_type = "text/plain"
    format = "txt"


class StatementView(GenericAPIView):
    """An artist's statement in a program: JSON; CSV with ?format=csv or Accept: text/csv;
    PDF with ?format=pdf or Accept: application/pdf."""

    serializer_class = s.StatementSerializer

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer(), PDFRenderer()]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # someone's pay record: no cache keeps a copy
        return response

    @extend_schema(
        parameters=[s.StatementQuerySerializer],
        responses={
            (200, "application/json"): s.StatementSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        params = query_params(request, s.StatementQuerySerializer)
        program = Program.objects.visible_to(request.user).filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        if access.scope_of(request.user).artist_id is None and "artist" not in params:
            raise exceptions.ValidationError({"artist": ["Name the artist."]})
        membership = queries.statement_membership(request.user, program, params.get("artist"))
        if membership is None:
            raise exceptions.NotFound("No such statement.")
        artist_id = membership.artist_id
        date_from, date_to = params.get("from"), params.get("to")
        if date_from and date_to and date_from > date_to:
            raise exceptions.ValidationError({"to": ["Must not be before `from`."]})
        statement = queries.statement(
            artist=membership.artist, program=program, date_from=date_from, date_to=date_to
        )
        wanted = params.get("format") or request.accepted_renderer.format
        if wanted == "csv":
            return downloads.statement_csv_download(statement)
        if wanted == "pdf":
            return downloads.statement_pdf_download(statement)
        currency = program.currency
        data = {
            "artist": artist_id,
            "program": program.pk,
            "currency": currency,
            "from": date_from,
            "to": date_to,
            "opening_minor": statement.opening_minor,
            "closing_minor": statement.closing_minor,
            "head_hash": statement.head_hash,
            "lines": [
                {
                    "date": line.date,
                    "kind": line.kind,
                    "description": line.description,
                    "amount_minor": line.amount_minor,
                    "balance_minor": line.balance_minor,
                    "currency": currency,
                }
                for line in statement.lines
            ],
        }
        return Response(s.StatementSerializer(data).data)


# --- Ledger ---------------------------------------------------------------------------------


class EntryViewSet(RowListMixin, viewsets.GenericViewSet):
    """Ledger entries, oldest first. An artist sees the entries touching its own accounts."""

    serializer_class = s.EntrySerializer
    pagination_class = EntryCursorPagination

    def get_queryset(self):
        filters = query_params(self.request, s.EntryQuerySerializer)
        return queries.visible_entries(
            self.request.user, program_id=filters.get("program"), artist_id=filters.get("artist")
        )

    @extend_schema(parameters=[s.EntryQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class VerifyView(GenericAPIView):
    """Recompute a program's chain and balances from the stored postings (admin)."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.VerifySerializer

    @extend_schema(parameters=[s.VerifyQuerySerializer], responses=s.VerifySerializer)
    def get(self, request):
        params = query_params(request, s.VerifyQuerySerializer)
        program = Program.objects.filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        result = verify_program(program)
        return Response(
            s.VerifySerializer(
                {
                    "ok": result.ok,
                    "program": program.pk,
                    "entries_checked": result.entries_checked,
                    "postings_checked": result.postings_checked,
                    "head_hash": result.head_hash,
                    "problems": result.problems,
                }
            ).data
        )


class JournalExportView(GenericAPIView):
    """A program's journal as plain text for hledger or beancount, streamed (admin)."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.JournalExportQuerySerializer

    def get_renderers(self):
        return [*super().get_renderers(), PlainTextRenderer()]

    @extend_schema(
        parameters=[s.JournalExportQuerySerializer],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request):
        params = query_params(request, s.JournalExportQuerySerializer)
        program = Program.objects.filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        return downloads.journal_download(program, params["format"])


class OutstandingExportView(GenericAPIView):
    """Outstanding liabilities of a program, one CSV row per member (admin)."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.VerifyQuerySerializer

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer()]

    @extend_schema(
        parameters=[s.VerifyQuerySerializer], responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request):
        params = query_params(request, s.VerifyQuerySerializer)
        program = Program.objects.filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        return downloads.outstanding_download(program)


class PayoutBatchExportView(GenericAPIView):
    """The payouts of a program paid on one day, one CSV row per artist, for payment tools."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.PayoutBatchQuerySerializer

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer()]

    @extend_schema(
        parameters=[s.PayoutBatchQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        params = query_params(request, s.PayoutBatchQuerySerializer)
        program = Program.objects.filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        return downloads.payout_batch_download(program, params["paid_on"])


class StatementCheckView(GenericAPIView):
    """Check a statement (as GET /statements/ returned it) against the ledger's hash chain.

    An artist may check its own statements; an admin any. Nothing is written.
    """

    serializer_class = s.StatementCheckSerializer

    @extend_schema(request=s.StatementCheckSerializer, responses=s.StatementCheckResultSerializer)
    @idempotent
    def post(self, request):
        shape = s.StatementCheckSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        visible = Membership.objects.visible_to(request.user).filter(
            program_id=shape.validated_data["program"],
            artist_id=shape.validated_data["artist"],
        )
        if not visible.exists():
            raise exceptions.NotFound("No such statement.")
        result = verify_statement(request.data)
        return Response(
            s.StatementCheckResultSerializer(
                {
                    "ok": result.ok,
                    "problem": result.problem,
                    "entries_checked": result.entries_checked,
                }
            ).data
        )


class NotFoundView(APIView):
    """Any unknown path under /api/v1/: a problem+json 404, whatever the method."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []
    schema = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("No such route.")


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's static files; its init script is a separate request and
    the page has no inline script or style, so it works under a strict CSP."""

    template_name = "api/swagger_ui.html"


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document: JSON by default, YAML with `Accept: application/yaml`."""

    renderer_classes = [
        OpenApiJsonRenderer,
        OpenApiJsonRenderer2,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]
