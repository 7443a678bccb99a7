"""The project's settings with the background work's clocks turned fast, for tests that start
real worker processes (`DJANGO_SETTINGS_MODULE=tests.background.fast_settings`): the sweep
every second, retries a second apart, a short lease (mail and webhooks). Everything else as
in production."""

import os

from ledger.settings import *  # noqa: F403

LEDGER_SCHEDULE = {"mail-sweep": {"every": 1, "call": "ledger.background.outbox.sweep"}}
if os.environ.get("LEDGER_TEST_JOB_LOG"):
    # A job that writes a line per run to that file (tests.background.jobs.record).
    LEDGER_SCHEDULE["record"] = {"every": 1, "call": "tests.background.jobs.record"}
LEDGER_SCHEDULE_TICK_SECONDS = 0.2
LEDGER_MAIL_RETRY_SECONDS = 1
LEDGER_MAIL_RETRY_MAX_SECONDS = 2
LEDGER_MAIL_LEASE_SECONDS = int(os.environ.get("LEDGER_TEST_MAIL_LEASE", "4"))
LEDGER_MAIL_SWEEP_GRACE_SECONDS = 1
# Webhook retries (deferred tasks; the webhook sweep stays out of LEDGER_SCHEDULE above, whose
# exact jobs the schedule tests count).
LEDGER_WEBHOOKS_RETRY_SECONDS = [1] * 30  # a receiver down for half a minute still gets it all
LEDGER_WEBHOOKS_TIMEOUT_SECONDS = 2
LEDGER_WEBHOOKS_LEASE_SECONDS = 4
LEDGER_WEBHOOKS_SWEEP_GRACE_SECONDS = 1
