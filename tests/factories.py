import functools

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password

from accounts.models import User

# Hashed once per set of hashers: tests log in with this password without paying PBKDF2 per
# user. Keyed by the hashers because a test may swap them (a fast one for a sweep of logins):
# a hash made then would not verify once the usual hashers are back.
PASSWORD = "correct-horse-battery-staple"
_hash_for = functools.cache(lambda hashers: make_password(PASSWORD))


def password_hash() -> str:
    return _hash_for(tuple(settings.PASSWORD_HASHERS))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    display_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.LazyFunction(password_hash)
