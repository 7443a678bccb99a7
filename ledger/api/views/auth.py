"""Auth and identity: tokens, the caller, artists."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from accounts import lockout, second_factor
from accounts.models import ApiToken, User
from ledger import services

from .. import serializers as s
from ..auth import issue_token
from ..errors import SecondFactorFailed
from ..idempotency import idempotent
from ..throttling import TokenCreationThrottle
from .common import request_body, require_permission


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
        data = request_body(request, s.TokenCreateSerializer)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            raise exceptions.AuthenticationFailed("Bad username or password.")
        _check_second_factor(request, user, data["otp"])
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


def _check_second_factor(request, user, code: str) -> None:
    """After the right password: whoever has enrolled sends a code as `otp`; staff who must
    have a second factor (`LEDGER_STAFF_REQUIRE_2FA`) and have none enrol on the pages first.
    A wrong code is a failed login for the lockout, as a wrong password is."""
    if not second_factor.is_enrolled(user):
        if second_factor.required(user):
            raise exceptions.PermissionDenied(
                "Staff need two-factor sign-in to create API tokens: set it up on the pages "
                "first (/account/two-factor/), then send a code as `otp`."
            )
        return
    if not code.strip():
        raise SecondFactorFailed(
            "This account has two-factor sign-in: send a code from the authenticator app "
            "(or a recovery code) as `otp`.",
            code="required",
        )
    if second_factor.verify_code(user, code) is None:
        lockout.count_failed_code(request._request, user.get_username())
        raise SecondFactorFailed("That code is not valid.", code="invalid")


class MeView(GenericAPIView):
    serializer_class = s.MeSerializer

    @extend_schema(responses=s.MeSerializer, summary="The caller")
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class ArtistViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ArtistSerializer

    def get_queryset(self):
        return User.objects.visible_to(self.request.user).with_staff_flag().order_by("id")

    @extend_schema(request=s.ArtistCreateSerializer, responses={201: s.ArtistSerializer})
    @idempotent
    def create(self, request):
        # A collection-level action: 403 without the operator's permission to add logins.
        require_permission(request, "accounts.add_user", "Only an operator may create logins.")
        fields = request_body(request, s.ArtistCreateSerializer)
        user = services.create_artist(actor=request.user, **fields)
        return Response(s.ArtistSerializer(user).data, status=status.HTTP_201_CREATED)
