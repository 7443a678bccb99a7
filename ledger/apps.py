from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self):
        from ledger import db_settings

        post_migrate.connect(db_settings.on_post_migrate, dispatch_uid="ledger.db_settings")
