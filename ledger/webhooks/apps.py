from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "ledger.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
