import functools

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import User

# Hashed once: tests log in with this password without paying PBKDF2 per user.
PASSWORD = "correct-horse-battery-staple"
password_hash = functools.cache(lambda: make_password(PASSWORD))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    display_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.LazyFunction(password_hash)
