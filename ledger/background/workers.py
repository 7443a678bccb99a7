"""Asking a worker to look now: the one way the app enqueues a task.

Every task here stands for rows in the database that say what is owed (an outbox message, a
subscription's deliveries, an import job, a schedule slot); the queue only says "look now". So
enqueuing never raises into the caller: a queue that is down (Redis), or a backend that cannot
defer a task, is logged, and a sweep or the next tick finds the rows again.
"""

import datetime as dt
import logging

logger = logging.getLogger("ledger.background")


def ask(task, *args, at: dt.datetime | None = None, what: str, otherwise: str) -> bool:
    """Enqueue `task(*args)`, to run no earlier than `at`; True when the queue took it.

    `what` names the work in the log line, `otherwise` says what happens when the queue does
    not take it ("the sweep will"). A deferred task on a backend that cannot defer is left to
    that fallback without a log line: it is the expected path there."""
    if at is not None:
        if not task.get_backend().supports_defer:
            return False
        task = task.using(run_after=at)
    try:
        task.enqueue(*args)
    except Exception as error:  # any failure of the queue: the rows are the promise
        logger.warning("%s not enqueued (%s): %s", what, otherwise, error)
        return False
    return True
