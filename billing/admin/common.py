"""Helpers the money console's pages share."""

from django.urls import reverse
from django.utils.html import format_html

from billing.models import (
    Receipt,
)

STATUS_COLORS = {
    Receipt.Status.PENDING: "#ef6c00",
    Receipt.Status.APPROVED: "#2e7d32",
    Receipt.Status.REJECTED: "#c62828",
}


def _change_link(obj, text=None):
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)
