"""The task functions the worker runs (django-tasks; `django.tasks` from Django 6 on).

Arguments are plain JSON (ids, names): a task carries no state of its own, the rows do.
"""

from django_tasks import task

from . import outbox, schedule


@task
def deliver_mail(mail_id: int) -> str:
    """Claim and send one message of the outbox (`outbox.deliver`)."""
    return outbox.deliver(mail_id)


@task
def deliver_webhooks(subscription_id: int) -> str:
    """Send what is due of one webhook subscription, in order
    (`ledger.webhooks.delivery.deliver_subscription`)."""
    from ledger.webhooks.delivery import deliver_subscription

    return deliver_subscription(subscription_id)


@task
def run_job(name: str, slot: str) -> None:
    """Run the scheduled job `name` for the slot starting at `slot` (ISO 8601)."""
    schedule.run(name, slot)


@task
def run_import(job_id: int) -> str:
    """Claim and run one bulk import (`ledger.services.imports.run`)."""
    from ledger.services import imports

    return imports.run(job_id)
