"""Auth and identity: tokens, the caller, artists."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from accounts.models import ApiToken, Role, User

from ..fields import PasswordField, TextEmailField, TextField, TextRegexField


class TokenCreateSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    password = TextField(max_length=4096, trim_whitespace=False, write_only=True)
    name = TextField(max_length=100, required=False, allow_blank=True, default="")


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


class ArtistSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "role"]
        read_only_fields = fields


# GET /me/ shows the caller with the same fields an artist is shown with.
MeSerializer = ArtistSerializer


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
            role=Role.ARTIST,
        )
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs
