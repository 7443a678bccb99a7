"""Background work on Django's task framework (the `django-tasks` backport of `django.tasks`).

- `outbox`: mail written in the caller's transaction, delivered after commit by a task,
  retried with growing delays, recovered by a periodic sweep when a task or a worker is lost.
- `schedule`: jobs run every so often (the outbox sweep, `apply_deadlines`), each slot claimed
  by a unique row so however many workers tick, a slot runs once.
- `tasks`: the task functions the worker runs; `workers.ask`, the one way they are enqueued.
- Commands: `db_worker` (django-tasks-db's worker plus the schedule; the default database
  backend) and `run_schedule` (the schedule alone, for the Redis backend's `rqworker`, or cron).

Durability comes from this app's own rows, not from the queue: the database backend neither
retries a failed task nor recovers one whose worker was killed, and a Redis queue can lose
what it holds. The rows say what is owed; the queue only says "look now".
"""
