"""A 3x-ui panel: where it is, how to log in, its health and the alerts it raised."""

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
