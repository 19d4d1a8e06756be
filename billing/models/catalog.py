"""What is sold: plans and add-ons."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

GB = 1024**3


class Plan(models.Model):
    name = models.CharField(_("name"), max_length=100)
    duration_days = models.PositiveIntegerField(_("duration (days)"))
    traffic_gb = models.PositiveIntegerField(_("traffic (GB)"), help_text=_("0 means unlimited."))
    price = models.PositiveBigIntegerField(_("price (Toman)"))
    max_devices = models.PositiveIntegerField(
        _("max devices"), default=0, help_text=_("The panel's limitIp; 0 means unlimited.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_trial = models.BooleanField(
        _("free trial"),
        default=False,
        help_text=_(
            "Offered as the free trial (price 0), once per customer, instead of in the plan list."
        ),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    panels = models.ManyToManyField(
        "panels.Panel",
        blank=True,
        related_name="plans",
        verbose_name=_("only on these panels"),
        help_text=_("Leave empty to sell the plan on every panel."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["sort_order", "price"]

    def __str__(self):
        return self.name

    @property
    def traffic_bytes(self):
        return self.traffic_gb * GB


class AddOn(models.Model):
    """Extra traffic or extra days for an existing account, sold on their own."""

    class Kind(models.TextChoices):
        TRAFFIC = "traffic", _("extra traffic (GB)")
        DAYS = "days", _("extra days")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    amount = models.PositiveIntegerField(
        _("amount"), help_text=_("Gigabytes for extra traffic, days for extra days.")
    )
    price = models.PositiveBigIntegerField(_("price (Toman)"))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("add-on")
        verbose_name_plural = _("add-ons")
        ordering = ["sort_order", "price"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_addon_amount_positive"),
        ]

    def __str__(self):
        return self.name

    @property
    def traffic_bytes(self):
        return self.amount * GB if self.kind == self.Kind.TRAFFIC else 0

    @property
    def days(self):
        return self.amount if self.kind == self.Kind.DAYS else 0
