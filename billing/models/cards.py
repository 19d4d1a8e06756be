"""The bank cards customers pay to, and the card number's rules."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

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
