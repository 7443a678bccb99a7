import pytest
from django.core.management import call_command
from django.db import transaction

from ledger.models import Program


@pytest.fixture(scope="module")
def _demo_data(django_db_setup, django_db_blocker):
    """The demo data, loaded once per module and rolled back after it (seeding takes seconds)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=None)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(_demo_data, db):
    return list(Program.objects.order_by("id"))
