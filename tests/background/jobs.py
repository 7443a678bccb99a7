"""A scheduled job for tests: records each run."""

import os

from ledger import clock

RUNS = []  # in-process runs


def record():
    """Note this run: in `RUNS`, and as a line in the file `LEDGER_TEST_JOB_LOG` names."""
    RUNS.append(clock.now())
    path = os.environ.get("LEDGER_TEST_JOB_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {clock.now().isoformat()}\n")
