"""An inbound of a panel, as last synced."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from panels.models.panel import Panel


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
