from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from panels.fields import EncryptedTextField


def validate_panel_url(value: str) -> None:
    """A panel URL is http(s) with a host, and carries no user:password@ (requests
    would send it). Forms add URLField's fuller check; this is what Panel.save holds
    every path to (a one-label docker host name such as http://xui:2053/ is fine)."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise ValidationError(_("Enter an http:// or https:// URL."), code="scheme")
    if "@" in parts.netloc:
        raise ValidationError(
            _("Put the panel's username and password in their own fields, not in the URL."),
            code="userinfo",
        )


class ApiGeneration(models.TextChoices):
    # Which 3x-ui HTTP API the panel speaks; detected at registration (panels.xui).
    LEGACY = "legacy", _("x-ui / early 3x-ui (xui/API)")
    V2 = "v2", _("3x-ui v1.4.6 – v2.x (cookie)")
    V3 = "v3", _("3x-ui v3.0 (CSRF or token)")
    V3_CLIENTS = "v3_clients", _("3x-ui v3.1+ (clients API)")


class Panel(models.Model):
    """One 3x-ui server: where accounts are created, and a location customers pick."""

    class Health(models.TextChoices):
        UNKNOWN = "unknown", _("unknown")
        OK = "ok", _("healthy")
        DOWN = "down", _("unreachable")
        AUTH_ERROR = "auth_error", _("login failed")

    name = models.CharField(_("name"), max_length=100, unique=True)
    location_name = models.CharField(_("location"), max_length=100)
    location_flag = models.CharField(_("flag emoji"), max_length=16, blank=True)
    base_url = models.URLField(
        _("panel URL"),
        max_length=500,
        validators=[validate_panel_url],
        help_text=_(
            "Full URL including the web base path, e.g. https://host:2053/AbCdEf/. "
            "Changing it clears the stored credentials unless they are entered again."
        ),
    )
    username = EncryptedTextField(_("username"), blank=True)
    password = EncryptedTextField(_("password"), blank=True)
    api_token = EncryptedTextField(
        _("API token"), blank=True, help_text=_("3x-ui v3 only; replaces username/password.")
    )
    verify_tls = models.BooleanField(_("verify TLS certificate"), default=True)
    public_host = models.CharField(
        _("public host"),
        max_length=255,
        help_text=_("Host name or IP put into customers' config links."),
    )
    sub_base_url = models.URLField(
        _("subscription base URL"),
        max_length=500,
        blank=True,
        help_text=_("e.g. https://sub.example.com:2096/sub/ — the sub id is appended."),
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), default=0, help_text=_("Maximum active accounts; 0 means no limit.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    health = models.CharField(
        _("health"), max_length=16, choices=Health.choices, default=Health.UNKNOWN
    )
    last_error = models.TextField(_("last error"), blank=True)
    # Health changes on evidence: a healthy panel is marked down only after this many
    # failed calls in a row (panels.health.panel_record_failure), not one 502.
    consecutive_failures = models.PositiveIntegerField(_("failed calls in a row"), default=0)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    api_generation = models.CharField(
        _("API generation"), max_length=16, choices=ApiGeneration.choices, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("panel")
        verbose_name_plural = _("panels")
        ordering = ["sort_order", "name"]
        permissions = [
            ("sync_panel", _("Can sync a panel now")),
            ("test_panel", _("Can test a panel's connection")),
        ]

    SECRET_FIELDS = ("username", "password", "api_token")

    def __str__(self):
        return f"{self.location_flag} {self.name}".strip()

    def save(self, *args, **kwargs):
        # One rule for every path (console, API, shell, commands): the credentials
        # are only ever sent to the URL they were entered for.
        validate_panel_url(self.base_url)
        if self.pk is not None:
            cleared = self._forget_secrets_for_new_url(kwargs.get("update_fields"))
            if cleared and kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *cleared}
        super().save(*args, **kwargs)

    def _forget_secrets_for_new_url(self, update_fields) -> list[str]:
        """Clear each secret not entered anew when the URL changes; returns their names.

        A secret counts as entered when its value differs from the stored one, or when
        the form or serializer that took it names it in ``secrets_entered`` (the
        operator typed the same password again).
        """
        if update_fields is not None and "base_url" not in update_fields:
            return []
        if "base_url" in self.get_deferred_fields():
            return []
        stored = Panel.objects.filter(pk=self.pk).values("base_url", *self.SECRET_FIELDS).first()
        if stored is None or stored["base_url"] == self.base_url:
            return []
        entered = getattr(self, "secrets_entered", ())
        cleared = []
        for name in self.SECRET_FIELDS:
            if name in entered:
                continue
            if name in self.__dict__ and getattr(self, name) != stored[name]:
                continue
            setattr(self, name, "")
            cleared.append(name)
        if cleared:
            # What was learnt about the old URL says nothing about the new one.
            self.health, self.api_generation = self.Health.UNKNOWN, ""
            cleared += ["health", "api_generation"]
        return cleared

    @property
    def location_label(self):
        return f"{self.location_flag} {self.location_name}".strip()


class Inbound(models.Model):
    """An inbound of a panel, as last synced; operators choose which ones are sold."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("active")
        DISABLED = "DISABLED", _("disabled on the panel")
        INACTIVE = "INACTIVE", _("gone from the panel")
        DELETED = "DELETED", _("deleted")

    panel = models.ForeignKey(
        Panel, on_delete=models.CASCADE, related_name="inbounds", verbose_name=_("panel")
    )
    remote_id = models.PositiveIntegerField(_("id on the panel"))
    remark = models.CharField(_("remark"), max_length=255, blank=True)
    protocol = models.CharField(_("protocol"), max_length=32)
    port = models.PositiveIntegerField(_("port"))
    listen = models.CharField(_("listen address"), max_length=255, blank=True)
    network = models.CharField(_("network"), max_length=32, blank=True)
    security = models.CharField(_("security"), max_length=32, blank=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    stream_settings = models.JSONField(_("stream settings"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    is_sellable = models.BooleanField(_("sellable"), default=False)
    display_name = models.CharField(_("name shown to customers"), max_length=100, blank=True)
    link_problem = models.CharField(
        _("why links cannot be built"),
        max_length=255,
        blank=True,
        help_text=_("Set by sync; an inbound with a problem is never sold."),
    )
    client_count = models.PositiveIntegerField(_("clients"), default=0)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("inbound")
        verbose_name_plural = _("inbounds")
        ordering = ["panel", "remote_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel", "remote_id"], name="panels_inbound_unique_remote_id"
            ),
        ]

    def __str__(self):
        return f"{self.panel.name} #{self.remote_id} {self.label}"

    @property
    def label(self):
        return self.display_name or self.remark or f"{self.protocol}:{self.port}"


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


class PanelHealthEvent(models.Model):
    """A panel went down or came back: one row per transition, the operators' alert.

    The row is written by whoever made the transition (panels.health, under the panel
    row's lock); ``(panel, seq)`` is unique, so however many jobs see the same failure,
    one row exists per transition. The bot layer claims ``notified_at`` before sending,
    so each row is sent once.
    """

    class Kind(models.TextChoices):
        DOWN = "down", _("went down")
        UP = "up", _("came back")

    panel = models.ForeignKey(
        Panel, on_delete=models.CASCADE, related_name="health_events", verbose_name=_("panel")
    )
    seq = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("what"), max_length=8, choices=Kind.choices)
    error = models.TextField(_("error"), blank=True)
    since = models.DateTimeField(_("down since"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    notified_at = models.DateTimeField(_("operators told"), null=True, blank=True)

    class Meta:
        verbose_name = _("panel health event")
        verbose_name_plural = _("panel health events")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "seq"], name="panel_health_event_unique_seq")
        ]

    def __str__(self):
        return f"{self.panel_id} #{self.seq} {self.kind}"
