"""Forms of the operator console for users."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

# A sanity bound on one manual correction (a trillion Toman): a typo of a few extra
# zeros is refused instead of booked.
MAX_ADJUSTMENT = 10**12


class WalletAdjustForm(forms.Form):
    amount = forms.IntegerField(
        label=_("Amount (Toman)"),
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text=_("Whole Toman: positive adds to the wallet, negative takes away."),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Why the wallet is corrected; kept on the ledger row for audit."),
    )

    # One id per rendered form: submitting the same page twice books one adjustment.
    request_id = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request_id"].initial = uuid.uuid4().hex

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("An adjustment cannot be zero."))
        return amount
