from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # The growth pages live in their own module (billing/admin_growth.py).
        from billing import admin_growth  # noqa: F401

        # Signals are connected once the models are loaded.
        from billing.catalogue import connect_signals

        connect_signals()
