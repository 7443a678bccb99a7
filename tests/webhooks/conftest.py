import pytest

from .receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def insecure(settings):
    """Webhooks may go to http:// and local addresses (the local receiver)."""
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = True
    return settings


@pytest.fixture
def admin_api(admin):
    from tests.api.conftest import client_for

    return client_for(admin)
