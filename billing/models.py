from django.conf import settings
from django.core.exceptions import ValidationError
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


# Persian (۰-۹) and Arabic-Indic (٠-٩) digits, as a phone keyboard types them.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def normalize_card_number(value: str) -> str:
    """A card number as 16 ASCII digits: other digits translated, spaces and dashes dropped."""
    return "".join(str(value).translate(_DIGITS).split()).replace("-", "")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


# What a card number may be made of before normalising (the schema's pattern): digits,
# spaces and dashes. "16 digits" and the Luhn check below are the rest of the rule.
CARD_NUMBER_PATTERN = r"^[0-9۰-۹٠-٩\s-]{16,32}$"


def validate_card_number(value: str) -> None:
    """An Iranian bank card (Shetab): 16 digits passing the Luhn check."""
    digits = normalize_card_number(value)
    if not (len(digits) == 16 and digits.isascii() and digits.isdigit()):
        raise ValidationError(
            _("A card number is 16 digits (spaces and dashes are fine)."), code="card_digits"
        )
    if not luhn_ok(digits):
        raise ValidationError(
            _("This is not a valid card number: check the digits."), code="card_checksum"
        )


class BankCard(models.Model):
    card_number = models.CharField(
        _("card number"),
        max_length=32,
        validators=[validate_card_number],
        help_text=_("16 digits; Persian digits, spaces and dashes are fine."),
    )
    holder_name = models.CharField(_("card holder"), max_length=100)
    bank_name = models.CharField(_("bank"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bank card")
        verbose_name_plural = _("bank cards")
        ordering = ["sort_order", "-updated_at"]

    def __str__(self):
        return f"{self.bank_name} {self.card_number} ({self.holder_name})"

    def save(self, *args, **kwargs):
        # Stored as plain digits whatever was typed, so the bot shows one form.
        self.card_number = normalize_card_number(self.card_number)
        super().save(*args, **kwargs)

    @property
    def formatted_number(self) -> str:
        digits = "".join(ch for ch in self.card_number if ch.isdigit())
        return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4)) or self.card_number


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
        from django.core.exceptions import ValidationError

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
