"""Orders and their state machine."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models.catalog import AddOn, Plan


class IllegalTransition(Exception):
    """An order was asked to move to a status its current status cannot reach."""


class Order(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("new account")
        RENEW = "renew", _("renewal")
        ADDON = "addon", _("add-on")
        TOPUP = "topup", _("wallet top-up")

    class PaymentMethod(models.TextChoices):
        WALLET = "wallet", _("wallet")
        RECEIPT = "receipt", _("card-to-card receipt")
        FREE = "free", _("free (a trial, or a discount of the whole price)")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        AWAITING_RECEIPT = "awaiting_receipt", _("awaiting receipt")
        PAID = "paid", _("paid, not yet delivered")
        FULFILLED = "fulfilled", _("fulfilled")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")
        REFUNDED = "refunded", _("refunded")

    # The whole state machine: anything not listed here raises IllegalTransition.
    TRANSITIONS = {
        Status.PENDING: {Status.AWAITING_RECEIPT, Status.PAID, Status.CANCELLED, Status.EXPIRED},
        Status.AWAITING_RECEIPT: {Status.PAID, Status.CANCELLED, Status.EXPIRED},
        Status.PAID: {Status.FULFILLED, Status.FAILED, Status.REFUNDED},
        Status.FAILED: {Status.PAID, Status.REFUNDED},
        Status.FULFILLED: set(),
        Status.CANCELLED: set(),
        Status.EXPIRED: set(),
        Status.REFUNDED: set(),
    }

    class PanelCleanup(models.TextChoices):
        ABSENT = "absent", _("never created (nothing to undo)")
        DELETED = "deleted", _("deleted from the panel")
        DISABLED = "disabled", _("disabled on the panel (its inbound's last client)")
        UNKNOWN = "unknown", _("not checked: the panel could not be reached (see last error)")

    PAYABLE = (Status.PENDING, Status.AWAITING_RECEIPT)
    # What provisioning delivers; a top-up is only ever paid by a receipt.
    DELIVERABLE = (Kind.NEW, Kind.RENEW, Kind.ADDON)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.NEW)
    plan = models.ForeignKey(
        Plan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("plan"),
    )
    panel = models.ForeignKey(
        "panels.Panel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("panel"),
    )
    inbound = models.ForeignKey(
        "panels.Inbound",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("inbound"),
    )
    renews = models.ForeignKey(
        "panels.ClientAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal_orders",
        verbose_name=_("renews account"),
        help_text=_("For a renewal or an add-on: the account it applies to."),
    )
    addon = models.ForeignKey(
        AddOn,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("add-on"),
    )
    amount = models.PositiveBigIntegerField(_("amount (Toman)"))
    discount_code = models.ForeignKey(
        "billing.DiscountCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("discount code"),
    )
    discount_amount = models.PositiveBigIntegerField(
        _("discount (Toman)"),
        default=0,
        help_text=_("Taken off the list price: amount + discount."),
    )
    payment_method = models.CharField(
        _("payment method"), max_length=8, choices=PaymentMethod.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    # Reserved before the panel is called, so a retry after a lost answer looks for
    # the same client instead of making a second one.
    client_uuid = models.CharField(_("reserved client id"), max_length=128, blank=True)
    client_email = models.CharField(_("reserved email"), max_length=128, blank=True)
    client_sub_id = models.CharField(_("reserved sub id"), max_length=64, blank=True)
    # A renewal or add-on records the client's new limits before the panel is called;
    # a retry after a lost answer applies these same absolute values (never "plus 30
    # days" again), so the panel is changed exactly once whatever happens.
    target_expiry_ms = models.BigIntegerField(_("target expiry (panel ms)"), null=True, blank=True)
    target_total_bytes = models.BigIntegerField(_("target traffic limit"), null=True, blank=True)
    base_used_bytes = models.BigIntegerField(
        _("usage when the target was set"),
        null=True,
        blank=True,
        help_text=_("Usage only grows, so a lower figure later means it was already reset."),
    )
    target_reset_usage = models.BooleanField(_("reset usage"), default=False)
    attempts = models.PositiveIntegerField(_("provisioning attempts"), default=0)
    # A short lease instead of a row lock held across the panel call: whoever sets it
    # (compare-and-set) provisions the order; a crashed worker's lease simply runs out.
    provisioning_until = models.DateTimeField(_("being provisioned until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    panel_cleanup = models.CharField(
        _("client on the panel after the refund"),
        max_length=16,
        choices=PanelCleanup.choices,
        blank=True,
        help_text=_(
            "A refunded new-account order's reserved client may have been created on its "
            "panel after all: what became of it."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        # The console's and the API's order actions; each is a separate job (roles).
        permissions = [
            ("refund_order", _("Can refund an order to the wallet")),
            ("retry_order", _("Can retry delivering an order")),
            ("move_order", _("Can move an order to another inbound")),
        ]
        indexes = [
            models.Index(fields=["status", "paid_at"]),
            # The console's order list sorts by it (newest first).
            models.Index(fields=["created_at"], name="billing_order_created_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} ({self.get_status_display()})"

    def can_transition(self, to_status):
        return to_status in self.TRANSITIONS.get(self.status, set())

    def check_transition(self, to_status):
        if not self.can_transition(to_status):
            raise IllegalTransition(f"order #{self.pk} cannot go from {self.status} to {to_status}")
