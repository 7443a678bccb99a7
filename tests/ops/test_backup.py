"""The backup drill: scripts/backup, then scripts/restore into a new database, then compare."""

import subprocess

import psycopg
import pytest
from django.apps import apps
from django.db import connection

from ledger import services
from tests.conftest import accepted_work, log_bug, log_feedback, make_program
from tests.ops.helpers import ROOT, database_url

TABLES = sorted(
    model._meta.db_table
    for label in ("ledger", "accounts")
    for model in apps.get_app_config(label).get_models()
)


def state(url):
    """Row counts of every ledger table, every balance and every chain head, read over SQL."""
    with psycopg.connect(url) as conn:
        # Table names come from the models, not from input.
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
        balances = conn.execute(
            "SELECT account_id, balance_minor, version FROM ledger_accountbalance ORDER BY 1"
        ).fetchall()
        heads = conn.execute(
            "SELECT program_id, seq, hash FROM ledger_ledgerhead ORDER BY 1"
        ).fetchall()
    return counts, balances, heads


def run(script, *args, env_url, **env):
    return subprocess.run(
        [str(ROOT / "scripts" / script), *args],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": env_url, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def scenario(admin, artist, artist2, program):
    accepted_work(program, artist, admin, "3.50")
    services.accept_contribution(contribution=log_bug(program, artist2, "critical"), actor=admin)
    services.reject_contribution(
        contribution=log_feedback(program, artist2, "1.00"), actor=admin, reason="Duplicate."
    )
    reversed_work = accepted_work(program, artist2, admin, "1.00")
    services.reverse_contribution(contribution=reversed_work, actor=admin, reason="Mistake.")
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=10000, kind="settlement"
    )
    grant = services.record_payout(
        actor=admin, artist=artist2, program=program, amount_minor=2500, kind="grant"
    )
    services.void_payout(payout=grant, actor=admin, reason="Sent twice.")
    other = make_program(admin, currency="EUR")
    services.enroll_artist(actor=admin, program=other, artist=artist)
    accepted_work(other, artist, admin, "2.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("direct_session")
def test_backup_and_restore_drill(admin, artist, artist2, program, tmp_path):
    scenario(admin, artist, artist2, program)
    source = database_url()
    restored_name = f"{connection.settings_dict['NAME']}_restore"
    target = database_url(restored_name)
    maintenance = database_url("postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
    try:
        backup = run("backup", env_url=source, BACKUP_DIR=str(tmp_path))
        assert backup.returncode == 0, backup.stderr
        dump = backup.stdout.strip()
        assert dump.startswith(str(tmp_path)) and dump.endswith(".dump")
        assert not list(tmp_path.glob("*.partial"))

        restore = run("restore", dump, target, env_url=source)
        assert restore.returncode == 0, restore.stdout + restore.stderr
        assert "verified" in restore.stdout
        assert restore.stdout.count(": ok;") == 2  # verify_ledger: both programs

        original, copy = state(source), state(target)
        assert copy == original
        counts = original[0]
        assert counts["ledger_posting"] >= 14 and counts["ledger_payout"] == 2

        # The append-only triggers came with the dump.
        with (
            psycopg.connect(target) as conn,
            pytest.raises(psycopg.errors.RaiseException, match="Cannot update or delete"),
        ):
            conn.execute("UPDATE ledger_posting SET amount_minor = amount_minor + 1")

        again = run("restore", dump, target, env_url=source)  # never over an existing database
        assert again.returncode != 0 and "already exists" in again.stderr
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')


def test_backup_refuses_a_database_that_is_not_postgresql(tmp_path):
    result = run("backup", env_url="sqlite:///db.sqlite3", BACKUP_DIR=str(tmp_path))
    assert result.returncode == 2 and "not PostgreSQL" in result.stderr
    assert not list(tmp_path.iterdir())
