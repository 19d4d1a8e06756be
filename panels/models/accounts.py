"""A customer's client account on a panel, its history and its reminders."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from panels.models.inbound import Inbound
from panels.models.panel import Panel


class ClientAccount(models.Model):
    """A customer's client on a panel inbound: what they paid for."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        DISABLED = "disabled", _("disabled")
        EXPIRED = "expired", _("expired")
        DELETED = "deleted", _("deleted")

    user = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        related_name="client_accounts",
        verbose_name=_("user"),
    )
    plan = models.ForeignKey(
        "billing.Plan",
        on_delete=models.PROTECT,
        related_name="client_accounts",
        verbose_name=_("plan"),
    )
    panel = models.ForeignKey(
        Panel, on_delete=models.PROTECT, related_name="client_accounts", verbose_name=_("panel")
    )
    inbound = models.ForeignKey(
        Inbound,
        on_delete=models.PROTECT,
        related_name="client_accounts",
        verbose_name=_("inbound"),
    )
    # One account per order: a retried provisioning can never create a second row.
    order = models.OneToOneField(
        "billing.Order",
        on_delete=models.PROTECT,
        related_name="created_account",
        null=True,
        blank=True,
        verbose_name=_("order"),
    )
    uuid = models.CharField(
        _("client id"), max_length=128, help_text=_("UUID (vless/vmess) or password (trojan).")
    )
    email = models.CharField(
        _("email on the panel"),
        max_length=128,
        help_text=_("Unique per panel, case-insensitive (3x-ui's rule); stored lower-case."),
    )
    sub_id = models.CharField(_("subscription id"), max_length=64, blank=True)
    config_url = models.TextField(_("config link"), blank=True)
    subscription_url = models.CharField(_("subscription link"), max_length=500, blank=True)
    qr_code_path = models.ImageField(_("QR code"), upload_to="qrcodes/", max_length=255, blank=True)
    traffic_limit_bytes = models.BigIntegerField(
        _("traffic limit (bytes)"), default=0, help_text=_("0 means unlimited.")
    )
    used_bytes = models.BigIntegerField(_("used (bytes)"), default=0)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    panel_enabled = models.BooleanField(_("enabled on the panel"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)

    class Meta:
        db_table = "client_accounts"
        verbose_name = _("client account")
        verbose_name_plural = _("client accounts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel", "email"], name="client_accounts_unique_panel_email"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            # The console's list sorts by it; its search matches the start of an email.
            models.Index(fields=["created_at"], name="client_acc_created_idx"),
            models.Index(fields=["email"], name="client_acc_email_idx"),
        ]
        # The account actions change the client on its panel (panels.lifecycle); each
        # is granted on its own so support can disable without extending for free.
        permissions = [
            ("extend_clientaccount", _("Can extend an account (days or traffic, free)")),
            ("disable_clientaccount", _("Can disable or enable an account on its panel")),
            ("remove_clientaccount", _("Can delete an account on its panel")),
            ("regenerate_clientaccount", _("Can regenerate an account's link")),
            ("resend_clientaccount", _("Can send an account's config again")),
        ]

    def __str__(self):
        return f"{self.email} @ {self.panel.name}"

    def save(self, *args, **kwargs):
        # 3x-ui compares emails ignoring case; storing them lower-case lets a plain
        # unique constraint enforce the same rule on every database.
        self.email = (self.email or "").lower()
        super().save(*args, **kwargs)


class AccountEvent(models.Model):
    """What happened to an account and who did it: the audit trail of its lifecycle."""

    class Action(models.TextChoices):
        RENEW = "renew", _("renewed")
        ADDON = "addon", _("add-on applied")
        EXTEND = "extend", _("extended by an operator")
        DISABLE = "disable", _("disabled")
        ENABLE = "enable", _("enabled")
        DELETE = "delete", _("deleted")
        REGENERATE = "regenerate", _("link regenerated")
        RESEND = "resend", _("config sent again")
        CLEANUP = "cleanup", _("deleted by clean-up")
        DRIFT = "drift", _("drift fixed (panel and database made to agree)")

    account = models.ForeignKey(
        ClientAccount, on_delete=models.CASCADE, related_name="events", verbose_name=_("account")
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the system did it (a paid order, a scheduled job)."),
    )
    order = models.ForeignKey(
        "billing.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    note = models.TextField(_("note"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class AccountReminder(models.Model):
    """A message about an account that must reach its customer at most once.

    The row is inserted *before* the message is sent; the unique constraint lets only
    one of two overlapping runs insert it, and only that run sends. ``period`` names
    the account's current term: the expiry timestamp for expiry and clean-up notices,
    the traffic limit for usage notices, so a renewal or more traffic starts a new one.
    """

    class Kind(models.TextChoices):
        EXPIRY = "expiry", _("expires soon")
        USAGE = "usage", _("traffic almost used")
        CLEANUP = "cleanup", _("will be deleted")

    class Outcome(models.TextChoices):
        CLAIMED = "claimed", _("being sent")
        SENT = "sent", _("sent")
        BLOCKED = "blocked", _("customer blocked the bot")
        FAILED = "failed", _("could not be sent")

    account = models.ForeignKey(
        ClientAccount,
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("account"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    threshold = models.PositiveIntegerField(_("threshold"), help_text=_("Days, or percent used."))
    period = models.BigIntegerField(_("period"))
    outcome = models.CharField(
        _("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.CLAIMED
    )
    created_at = models.DateTimeField(_("claimed"), auto_now_add=True)

    class Meta:
        verbose_name = _("account reminder")
        verbose_name_plural = _("account reminders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "threshold", "period"],
                name="panels_reminder_once_per_period",
            ),
        ]

    def __str__(self):
        return f"{self.account_id} {self.kind} {self.threshold} ({self.get_outcome_display()})"
