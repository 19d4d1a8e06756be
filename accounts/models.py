from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Customers (from Telegram) and staff (operators) in one table."""

    class Language(models.TextChoices):
        PERSIAN = "fa", "فارسی"
        ENGLISH = "en", "English"

    telegram_id = models.BigIntegerField(_("Telegram id"), unique=True, null=True, blank=True)
    telegram_username = models.CharField(_("Telegram username"), max_length=64, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.PERSIAN
    )
    is_blocked = models.BooleanField(
        _("blocked by operator"),
        default=False,
        help_text=_("A blocked customer can no longer buy or use the bot."),
    )
    has_blocked_bot = models.BooleanField(
        _("blocked the bot"),
        default=False,
        help_text=_("Set when Telegram answers 403: the customer blocked the bot."),
    )
    referred_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("invited by"),
        help_text=_("Set once, when a new customer arrives with an invite link."),
    )
    # The secret part of the customer's one subscription URL (SITE_URL/sub/<token>/):
    # made on first use, replaced (the old URL then answers 404) by panels.subscription.
    subscription_token = models.CharField(
        _("subscription token"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    # A cache of the ledger's sum; only billing.services may change it.
    balance = models.BigIntegerField(_("wallet balance (Toman)"), default=0, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # The console's user list sorts by it (newest first).
        indexes = [models.Index(fields=["date_joined"], name="accounts_user_joined_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="accounts_user_balance_not_negative"
            ),
        ]

    def __str__(self):
        if self.telegram_id:
            handle = f"@{self.telegram_username}" if self.telegram_username else ""
            name = self.get_full_name() or handle or str(self.telegram_id)
            return f"{name} ({self.telegram_id})"
        return self.username

    @property
    def display_name(self):
        return self.get_full_name() or (
            f"@{self.telegram_username}" if self.telegram_username else self.username
        )


class IdempotencyKey(models.Model):
    """A staff API request that moved money or changed a panel, kept with its answer.

    The client names the request (the ``Idempotency-Key`` header); a retry with the same
    key and body gets the stored answer instead of acting again (moonvpn.api.idempotent).
    """

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=64)
    # sha256 of the method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    # Empty while the first request is still running.
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response = models.JSONField(_("response"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("API idempotency key")
        verbose_name_plural = _("API idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="accounts_idempotency_user_key")
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"
