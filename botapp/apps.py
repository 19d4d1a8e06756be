from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BotappConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "botapp"
    verbose_name = _("Telegram bot")

    def ready(self):
        # The broadcast pages live in their own module (botapp/admin_broadcasts.py).
        from botapp import admin_broadcasts  # noqa: F401
