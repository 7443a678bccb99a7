"""Property-based conformance: schemathesis drives every operation of the served schema, as an
admin and as an artist, and checks responses against the schema (status codes, content
types, headers, bodies) and that nothing answers 5xx. Bounded to a few examples each."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ledger import services
from ledger.api.auth import issue_token
from tests.conftest import accepted_work, log_bug

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 6


@pytest.fixture
def wsgi_in_test_transaction():
    """Serve WSGI requests on the test's own connection (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_api_conforms_to_its_schema(wsgi_in_test_transaction, admin, artist, artist2, program):
    work = accepted_work(program, artist, admin)
    log_bug(program, artist2)
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=500, kind="grant"
    )
    tokens = {
        role: issue_token(user=user)[1] for role, user in (("admin", admin), ("artist", artist))
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_in_test_transaction)
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            for role, token in tokens.items():
                headers = {"Authorization": f"Bearer {token}"}
                response = case.call(headers=headers)
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except Exception as exc:  # collect, report all at the end
                    failures.append(f"{role} {case.operation.label}: {exc}")

        run()
    assert operations >= 30
    assert not failures, "\n\n".join(failures[:10])
    assert work.pk
