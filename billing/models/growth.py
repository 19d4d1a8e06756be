"""Discount codes, their uses, and free-trial claims."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.catalog import Plan
from billing.models.orders import Order


class DiscountCode(models.Model):
    """A code a customer types on the order summary for a lower price.

    ``uses`` counts paid orders (under this row's lock, billing.services); a refund
    gives its use back.
    """

    code = models.CharField(
        _("code"), max_length=32, unique=True, help_text=_("Case does not matter.")
    )
    percent_off = models.PositiveSmallIntegerField(
        _("percent off"), null=True, blank=True, help_text=_("1 to 100; or give an amount off.")
    )
    amount_off = models.PositiveBigIntegerField(_("amount off (Toman)"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(
        _("max uses"), null=True, blank=True, help_text=_("Empty means no limit.")
    )
    max_uses_per_user = models.PositiveIntegerField(
        _("max uses per customer"), null=True, blank=True, default=1
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    plans = models.ManyToManyField(
        Plan,
        blank=True,
        related_name="discount_codes",
        verbose_name=_("only for these plans"),
        help_text=_("Leave empty for every plan."),
    )
    for_new = models.BooleanField(_("applies to new services"), default=True)
    for_renewal = models.BooleanField(_("applies to renewals"), default=True)
    for_addon = models.BooleanField(_("applies to add-ons"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    uses = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("discount code")
        verbose_name_plural = _("discount codes")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(percent_off__isnull=False, amount_off__isnull=True)
                           & Q(percent_off__gte=1, percent_off__lte=100))
                | (Q(percent_off__isnull=True, amount_off__isnull=False) & Q(amount_off__gt=0)),
                name="billing_discount_percent_or_amount",
            ),
        ]  # fmt: skip

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        # Stored upper-case, so the unique index is case-insensitive on every database.
        self.code = (self.code or "").strip().upper()
        super().save(*args, **kwargs)

    def clean(self):

        if (self.percent_off is None) == (self.amount_off is None):
            raise ValidationError(_("Give either a percent off or an amount off."))
        if self.percent_off is not None and not 1 <= self.percent_off <= 100:
            raise ValidationError(_("The percent off is 1 to 100."))

    def discount_on(self, price: int) -> int:
        if self.percent_off is not None:
            off = price * self.percent_off // 100
        else:
            off = self.amount_off or 0
        return min(off, price)  # never below 0


class DiscountUse(models.Model):
    """One paid order's use of a code; deleted when that order is refunded."""

    code = models.ForeignKey(
        DiscountCode, on_delete=models.PROTECT, related_name="use_rows", verbose_name=_("code")
    )
    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="discount_use", verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="discount_uses",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("used"), auto_now_add=True)

    class Meta:
        verbose_name = _("discount code use")
        verbose_name_plural = _("discount code uses")

    def __str__(self):
        return f"{self.code_id} on order #{self.order_id}"


class TrialClaim(models.Model):
    """A customer's one free trial; the unique user is what makes it one, ever."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="trial_claim",
        verbose_name=_("user"),
    )
    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="trial_claim", verbose_name=_("order")
    )
    created_at = models.DateTimeField(_("claimed"), auto_now_add=True)

    class Meta:
        verbose_name = _("free trial")
        verbose_name_plural = _("free trials")

    def __str__(self):
        return f"trial of user {self.user_id} (order #{self.order_id})"
