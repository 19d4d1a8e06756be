"""Card-to-card receipts a customer sends for an order."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models.orders import Order


class Receipt(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending review")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("user"),
    )
    image = models.ImageField(_("image"), upload_to="receipts/%Y/%m/", max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    telegram_file_unique_id = models.CharField(
        _("Telegram file_unique_id"), max_length=128, blank=True, db_index=True
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("same image as"),
        help_text=_("An earlier receipt with the same image: possibly a reused receipt."),
    )
    amount = models.PositiveBigIntegerField(_("amount (Toman)"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reject_reason = models.TextField(_("reject reason"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-created_at"]
        permissions = [("review_receipt", _("Can approve or reject a receipt"))]

    def __str__(self):
        return f"#{self.pk} ({self.get_status_display()})"
