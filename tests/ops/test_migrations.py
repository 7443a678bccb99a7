"""Migrations: moving IdempotencyKey to the API app keeps every row (SQLite and PostgreSQL),
and a fresh SQLite install migrates without printing a warning."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ledger.api.models import IdempotencyKey
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent.parent
BEFORE_MOVE = [("accounts", "0002_api_tokens_idempotency"), ("ledger_api", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_moving_idempotency_keys_to_the_api_app_keeps_their_rows():
    user = UserFactory(username="keeper")
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    # Back to the state a deployed database had before the move, and a key stored then.
    executor = _migrate(BEFORE_MOVE)
    try:
        old_apps = executor.loader.project_state(BEFORE_MOVE[0], at_end=True).apps
        old = old_apps.get_model("accounts", "IdempotencyKey").objects.create(
            user_id=user.pk,
            key="k-1",
            fingerprint="f" * 64,
            status_code=201,
            response_body={"id": 7},
        )
    finally:
        _migrate(leaves)
    row = IdempotencyKey.objects.get()
    assert (row.pk, row.user_id, row.key, row.status_code, row.response_body) == (
        old.pk,
        user.pk,
        "k-1",
        201,
        {"id": 7},
    )
    assert ContentType.objects.get_for_model(IdempotencyKey).app_label == "ledger_api"
    assert not ContentType.objects.filter(app_label="accounts", model="idempotencykey").exists()
    # The unique claim still holds on the moved table.
    IdempotencyKey.objects.create(user=user, key="k-2", fingerprint="f" * 64)
    assert IdempotencyKey.objects.count() == 2


def test_migrate_on_a_fresh_sqlite_database_prints_no_warning(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    env.pop("LEDGER_REQUIRE_POSTGRES", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    output = done.stdout + done.stderr
    assert "Applying ledger_api.0001_initial... OK" in output
    assert "WARNING" not in output.upper() and "W040" not in output, output


BEFORE_ROLES = [("accounts", "0004_shared_cache_table"), ("ledger", "0005_accepted_work_has_dates")]


@pytest.mark.django_db(transaction=True)
def test_upgrading_makes_v1_admins_staff_of_every_program_so_nobody_loses_access():
    from accounts.models import User
    from ledger import access
    from ledger.models import StaffRole

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    executor = _migrate(BEFORE_ROLES)
    try:
        old_apps = executor.loader.project_state(BEFORE_ROLES, at_end=True).apps
        OldUser = old_apps.get_model("accounts", "User")
        OldProgram = old_apps.get_model("ledger", "Program")
        admin = OldUser.objects.create(username="v1-admin", role="admin")
        OldUser.objects.create(username="v1-artist", role="artist")
        founder = OldUser.objects.create(username="v1-founder", role="artist")
        first = OldProgram.objects.create(name="First", currency="USD", created_by_id=admin.pk)
        second = OldProgram.objects.create(name="Second", currency="EUR", created_by=founder)
    finally:
        _migrate(leaves)
    admin, artist = User.objects.get(username="v1-admin"), User.objects.get(username="v1-artist")
    for program_id in (first.pk, second.pk):
        assert access.roles_in(admin, program_id) == {"manager", "reviewer", "treasurer"}
        assert access.roles_in(artist, program_id) == frozenset()
    assert admin.has_perm("ledger.add_program") and not artist.has_perm("ledger.add_program")
    assert StaffRole.objects.filter(
        program_id=second.pk, user__username="v1-founder"
    ).get().role == ("manager")
    assert access.v1_role(admin) == "admin" and access.v1_role(artist) == "artist"
