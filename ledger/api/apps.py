from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API is its own app because it keeps rows of its own (idempotency keys) and a
    command to purge them; its views and serializers stay a thin interface over the core."""

    name = "ledger.api"
    label = "ledger_api"
    verbose_name = "REST API"
