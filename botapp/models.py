"""The bot's own rows: what a customer was asked to type, and what they were told once."""

from django.conf import settings
from django.core.validators import MaxValueValidator
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


class Broadcast(models.Model):
    """A message to many customers, written in the console and sent by send_broadcasts."""

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("everyone")
        ACTIVE = "active", _("customers with an active service")
        INACTIVE = "inactive", _("customers without an active service")
        EXPIRED = "expired", _("customers whose service expired in the last N days")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    # One Telegram message at most (4096 characters), in the console and the API alike.
    text = models.TextField(
        _("text"),
        max_length=4096,
        help_text=_("Telegram HTML: <b>, <i>, <u>, <s>, <code>, <pre>, <a href>."),
    )
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.EVERYONE
    )
    expired_days = models.PositiveIntegerField(
        _("expired in the last (days)"),
        default=7,
        validators=[MaxValueValidator(3650)],
        help_text=_("For the 'expired' audience."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    total = models.PositiveIntegerField(_("recipients"), default=0)
    sent = models.PositiveIntegerField(_("sent"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    blocked = models.PositiveIntegerField(_("blocked the bot"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        ordering = ["-created_at"]

    def __str__(self):
        return f"#{self.pk} ({self.get_status_display()})"


class BroadcastDelivery(models.Model):
    """One recipient of a broadcast: the claim that makes it reach them once.

    A sender moves a row pending → sending (a compare-and-set, committed) before it
    calls Telegram and → sent/failed/blocked after. A row left "sending" by a killed
    sender is never sent again (it may have gone out): at most one message per
    customer, whatever runs at once or dies.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        BLOCKED = "blocked", _("blocked the bot")

    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("broadcast")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    chat_id = models.BigIntegerField(_("chat"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    claimed_by = models.CharField(_("claimed by"), max_length=32, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)

    class Meta:
        verbose_name = _("broadcast delivery")
        verbose_name_plural = _("broadcast deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "user"], name="botapp_broadcast_once_per_user"
            )
        ]
        indexes = [models.Index(fields=["broadcast", "status"])]

    def __str__(self):
        return f"{self.broadcast_id} → {self.user_id}: {self.status}"
