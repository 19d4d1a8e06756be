"""The bot's own rows: what a customer was asked to type, and what they were told once."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PendingInput(models.Model):
    """The bot asked this customer to type something; their next text message is it.

    Kept in the database, not in memory, so a restart or another webhook worker
    still knows what the typed text means.
    """

    class Kind(models.TextChoices):
        TOPUP_AMOUNT = "topup_amount", _("top-up amount")
        DISCOUNT_CODE = "discount_code", _("discount code")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="pending_input",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    order = models.ForeignKey(
        "billing.Order",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
        help_text=_("The order a typed discount code is for."),
    )
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    class Meta:
        verbose_name = _("pending input")
        verbose_name_plural = _("pending inputs")

    def __str__(self):
        return f"{self.user_id}: {self.kind}"


class Notice(models.Model):
    """A message that must reach a customer at most once (a delivery, a refund notice).

    Whoever inserts the row sends the message; the unique key makes the bot, the
    retry job and the admin race safely.
    """

    key = models.CharField(_("key"), max_length=100, unique=True)
    order = models.ForeignKey(
        "billing.Order",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self):
        return self.key
