"""Property-based conformance: schemathesis drives every operation of the served schema, as an
admin and as an artist, with positive and negative data, and runs every check it has."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from ledger import services
from ledger.api.auth import issue_token
from tests.conftest import accepted_work, log_bug

EXAMPLES = 6


@pytest.fixture
def wsgi_in_test_transaction():
    """Serve WSGI requests on the test's own connection (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def describe(response) -> str:
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{response.status_code} <not json>"
    if not isinstance(body, dict):
        return f"{response.status_code}"
    fields = sorted({str(e.get("field")) for e in body.get("errors", []) if isinstance(e, dict)})
    messages = [e.get("message") for e in body.get("errors", []) if isinstance(e, dict)]
    return f"{response.status_code} {body.get('code')} {fields} {messages}"


@pytest.mark.django_db
def test_api_conforms_to_its_schema(wsgi_in_test_transaction, admin, artist, artist2, program):
    work = accepted_work(program, artist, admin)
    log_bug(program, artist2)
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=500, kind="grant"
    )
    users = {"admin": admin, "artist": artist}
    load_all_checks()
    checks = CHECKS.get_all()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_in_test_transaction)
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                for role, user in users.items():
                    # A fresh token each call: revoke-all and DELETE /auth/tokens/{id}/ are
                    # operations under test too, and would otherwise sign the run out.
                    headers = {"Authorization": f"Bearer {issue_token(user=user)[1]}"}
                    response = case.call(headers=headers)
                    if mode is GenerationMode.POSITIVE and response.status_code >= 300:
                        failures.append(
                            f"{role} POSREJ {case.operation.label}: {describe(response)} "
                            f"q={case.query} b={str(case.body)[:150]}"
                        )
                    try:
                        case.validate_response(response, checks=checks, headers=headers)
                    except FailureGroup as group:
                        for failure in group.exceptions:
                            failures.append(
                                f"{role} {mode.value} {case.operation.label}: "
                                f"{type(failure).__name__} {describe(response)} "
                                f"q={case.query} b={str(case.body)[:100]}"
                            )
                    except Exception as exc:
                        failures.append(f"{role} {case.operation.label}: {type(exc).__name__}{exc}")

            run()
    assert operations >= 30
    with open("/tmp/schema_explore/failures.txt", "w") as out:
        out.write("\n".join(failures))
    assert not failures, "\n".join(failures[:40])
    assert work.pk
