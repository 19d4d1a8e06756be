"""Read queries for the console's home page (nothing here writes)."""

import datetime as dt

from django.utils import timezone

from panels.models import ClientAccount, Panel


def panels_down():
    """Active panels whose last check failed (down or refusing our login)."""
    return Panel.objects.filter(
        is_active=True, health__in=(Panel.Health.DOWN, Panel.Health.AUTH_ERROR)
    ).order_by("name")


def expiring_within(days: int = 3):
    """Active accounts that expire in the next ``days`` days, soonest first."""
    now = timezone.now()
    return ClientAccount.objects.filter(
        status=ClientAccount.Status.ACTIVE,
        expires_at__gte=now,
        expires_at__lt=now + dt.timedelta(days=days),
    ).order_by("expires_at")
