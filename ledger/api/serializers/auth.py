"""Auth and identity: tokens, the caller, artists."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from accounts import second_factor
from accounts.models import ApiToken, User
from ledger import access

from ..fields import PasswordField, TextEmailField, TextField, TextRegexField


class TokenCreateSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    password = TextField(max_length=4096, trim_whitespace=False, write_only=True)
    name = TextField(max_length=100, required=False, allow_blank=True, default="")
    otp = TextField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        help_text=(
            "A second-factor code: the 6 digits the authenticator app shows, or one of the "
            "recovery codes (used up). Needed from whoever has enrolled a second factor, and "
            "from staff while the server requires one of them."
        ),
    )


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class TokensRevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(read_only=True, help_text="How many tokens were revoked.")


class TokenCreatedSerializer(serializers.ModelSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret; shown only once.")

    class Meta:
        model = ApiToken
        fields = ["id", "token", "name", "created_at", "expires_at"]
        read_only_fields = fields


class V1RoleField(serializers.ChoiceField):
    """v1's `role` of a user: `admin` for an operator or staff of any program, else
    `artist` (`access.v1_role`)."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=[("artist", "artist"), ("admin", "admin")], read_only=True, source="*", **kwargs
        )

    def to_representation(self, value):
        return access.v1_role(value)


class ArtistSerializer(serializers.ModelSerializer):
    role = V1RoleField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "role"]
        read_only_fields = fields


class StaffRoleHeldSerializer(serializers.Serializer):
    program = serializers.IntegerField()
    role = serializers.ChoiceField(choices=[(r.value, r.value) for r in access.ROLES])


class MeSerializer(ArtistSerializer):
    """The caller: an artist's fields, and what it may do beyond its own work."""

    staff_roles = serializers.SerializerMethodField()
    can_create_programs = serializers.SerializerMethodField()
    otp_enabled = serializers.SerializerMethodField(
        help_text="Whether the caller has set up a second factor (an authenticator app)."
    )

    class Meta(ArtistSerializer.Meta):
        fields = [
            *ArtistSerializer.Meta.fields,
            "staff_roles",
            "can_create_programs",
            "otp_enabled",
        ]
        read_only_fields = fields

    @extend_schema_field(StaffRoleHeldSerializer(many=True))
    def get_staff_roles(self, user) -> list:
        held = access.roles_of(user)
        return [
            {"program": program_id, "role": role}
            for program_id in sorted(held)
            for role in access.ROLES
            if role in held[program_id]
        ]

    def get_can_create_programs(self, user) -> bool:
        return access.has_permission(user, "ledger.add_program")

    def get_otp_enabled(self, user) -> bool:
        return second_factor.is_enrolled(user)


class ArtistCreateSerializer(serializers.Serializer):
    username = TextRegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        validators=[
            UniqueValidator(
                queryset=User.objects.all(),
                lookup="iexact",
                message="This username is taken.",
            )
        ],
    )
    email = TextEmailField(max_length=254)
    display_name = TextField(max_length=200, required=False, allow_blank=True)
    password = PasswordField()

    def validate(self, attrs):
        candidate = User(
            username=attrs["username"],
            email=attrs["email"],
            display_name=attrs.get("display_name", ""),
        )
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs
