from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    name = "ledger.background"
    label = "background"
    verbose_name = "Background work"
