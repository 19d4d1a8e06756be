"""The wallet ledger: append-only rows, one per balance change."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.orders import Order
from billing.models.receipts import Receipt


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("the wallet ledger is append-only")

    def delete(self):
        raise TypeError("the wallet ledger is append-only")


class WalletTransaction(models.Model):
    """The wallet ledger. Append-only; User.balance equals the sum of a user's rows."""

    class Kind(models.TextChoices):
        TOPUP = "topup", _("top-up")
        PURCHASE = "purchase", _("purchase")
        REFUND = "refund", _("refund")
        ADJUSTMENT = "adjustment", _("adjustment")
        REFERRAL = "referral", _("referral reward")

    # Not a column: True on the row a repeated idempotency key returned, so a caller
    # can tell a resubmission (nothing new happened) from a new booking.
    replayed = False

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="wallet_transactions",
        verbose_name=_("user"),
    )
    amount = models.BigIntegerField(_("amount (Toman)"), help_text=_("Positive credits."))
    balance_after = models.BigIntegerField(_("balance after"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wallet_transactions",
        verbose_name=_("order"),
    )
    receipt = models.ForeignKey(
        Receipt,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wallet_transactions",
        verbose_name=_("receipt"),
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("made by"),
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("wallet transaction")
        verbose_name_plural = _("wallet ledger")
        ordering = ["-created_at", "-id"]
        # Rows are never added by hand (add_wallettransaction is not offered); adjusting
        # a wallet books one through billing.services.wallet_adjust.
        permissions = [("adjust_wallet", _("Can adjust a wallet by hand"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="billing_ledger_balance_not_negative"
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="billing_ledger_amount_nonzero"),
        ]

    def __str__(self):
        return f"{self.amount:+,} → {self.balance_after:,}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("the wallet ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("the wallet ledger is append-only")
