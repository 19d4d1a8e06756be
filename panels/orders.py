"""A paid order's provisioning attempts: their outcome, the lease, failing, giving up.

Shared by panels.provisioning (a new account) and panels.renewals (a renewal or add-on
applied to an account): both claim the order's lease, and both end an attempt here.
"""

import enum
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import services as billing
from billing.models import Order
from panels.health import panel_record_failure
from panels.models import ClientAccount
from panels.sessions import panel_client, panel_remember_generation
from panels.xui import ClientNotFound, LastClientError, PanelError, client_key, error_summary

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # the account exists and the order is fulfilled
    PENDING = "pending"  # the panel failed; the order stays paid and will be retried
    REFUNDED = "refunded"  # given up: the amount went back to the wallet
    BUSY = "busy"  # another worker holds the lease
    NOT_PAID = "not_paid"  # nothing to do (already fulfilled, refunded, ...)


@dataclass
class ProvisionResult:
    outcome: Outcome
    order: Order
    account: ClientAccount | None = None
    error: str = ""


def order_claim(order_id: int, *, order: Order | None = None, reserve: dict | None = None) -> bool:
    """Take the order's provisioning lease (a compare-and-set), or say another holds it.

    Given the ``order`` as just read, the claim also requires its attempt count to be
    unchanged since, and sets the claimed lease and count on it: no re-read is needed.
    ``reserve`` (client identifiers the order lacks yet) is written in the same
    statement, on the condition that each is still empty: whoever holds the lease has
    the order's identifiers, and they never change afterwards.
    """
    now = timezone.now()
    claim = Order.objects.filter(pk=order_id, status=Order.Status.PAID).filter(
        Q(provisioning_until__isnull=True) | Q(provisioning_until__lt=now)
    )
    if order is None:
        return claim.update(provisioning_until=now + LEASE, attempts=F("attempts") + 1) == 1
    reserve = reserve or {}
    # Each identifier written must still be empty, as it was read.
    claim = claim.filter(**{name: "" for name in reserve})
    claimed = claim.filter(attempts=order.attempts).update(
        provisioning_until=now + LEASE, attempts=order.attempts + 1, **reserve
    )
    if claimed != 1:
        return False
    order.provisioning_until = now + LEASE
    order.attempts += 1
    for name, value in reserve.items():
        setattr(order, name, value)
    return True


def _give_up(order: Order) -> bool:
    if order.attempts >= settings.PROVISION_MAX_ATTEMPTS:
        return True
    deadline = timedelta(minutes=settings.PROVISION_REFUND_AFTER_MINUTES)
    return order.paid_at is not None and timezone.now() - order.paid_at >= deadline


def order_failed(order: Order, error: str) -> ProvisionResult:
    log.warning("order #%s: provisioning attempt %s failed: %s", order.pk, order.attempts, error)
    order.last_error = error
    if _give_up(order):
        # The lease stays ours until the order is refunded: no retry can add the
        # client while order_give_up looks for it on the panel.
        Order.objects.filter(pk=order.pk).update(last_error=error[:2000])
        order = order_give_up(
            order_id=order.pk,
            note=f"refunded after {order.attempts} attempts: {error}"[:500],
            lease_is_ours=True,
        )
        return ProvisionResult(Outcome.REFUNDED, order, error=error)
    Order.objects.filter(pk=order.pk).update(last_error=error[:2000], provisioning_until=None)
    return ProvisionResult(Outcome.PENDING, order, error=error)


def order_give_up(
    *, order_id: int, note: str = "", created_by=None, lease_is_ours: bool = False
) -> Order:
    """Refund a paid order that was not delivered, and undo its client on the panel.

    An attempt whose answer was lost may have created the reserved client after all;
    refunded, it would go on working for free. After the refund (from then on no
    retry can add it) the client is looked up by its reserved email and deleted — or
    disabled where the panel keeps an inbound's last client — and the order records
    which (``panel_cleanup``). The operator's refund (admin, API) and the retry
    limit both come here.
    """
    order = Order.objects.get(pk=order_id)
    if (
        not lease_is_ours
        and order.provisioning_until is not None
        and order.provisioning_until > timezone.now()
    ):
        raise billing.BillingError(
            _("This order is being provisioned right now; try again in a few minutes.")
        )
    billing.order_refund(order_id=order_id, note=note, created_by=created_by)
    order = Order.objects.select_related("panel", "inbound").get(pk=order_id)
    order_undo_client(order)
    order.refresh_from_db()
    return order


def order_undo_client(order: Order) -> str:
    """Delete (or disable) a refunded order's reserved client if it is on the panel."""
    if (
        order.kind != Order.Kind.NEW
        or order.status != Order.Status.REFUNDED
        or not order.client_email
        or order.panel_id is None
        or ClientAccount.objects.filter(order=order).exists()
    ):
        return order.panel_cleanup
    xui = panel_client(order.panel)
    error = ""
    try:
        found = xui.find_client(order.client_email)
        if found is None:
            outcome = Order.PanelCleanup.ABSENT
        else:
            # v3.1+ may report a client attached to no inbound as 0.
            inbound_id = found[0] or order.inbound.remote_id
            client, protocol = found[1], order.inbound.protocol
            try:
                xui.delete_client(inbound_id, protocol, client)
                outcome = Order.PanelCleanup.DELETED
            except LastClientError:
                key = client_key(protocol, client)
                xui.update_client(inbound_id, protocol, key, {**client, "enable": False})
                outcome = Order.PanelCleanup.DISABLED
            except ClientNotFound:
                outcome = Order.PanelCleanup.ABSENT
    except PanelError as exc:
        panel_record_failure(order.panel, exc)
        outcome, error = Order.PanelCleanup.UNKNOWN, f"after the refund: {error_summary(exc)}"
    finally:
        panel_remember_generation(order.panel, xui)
    fields = {"panel_cleanup": outcome, "provisioning_until": None}
    if error:
        fields["last_error"] = error[:2000]
    Order.objects.filter(pk=order.pk).update(**fields)
    log.info("order #%s refunded; its client on the panel: %s", order.pk, outcome)
    return outcome


def orders_to_undo(limit: int = 100) -> list[Order]:
    """Refunded orders whose panel could not be checked yet (retry_provisioning)."""
    return list(
        Order.objects.select_related("panel", "inbound")
        .filter(status=Order.Status.REFUNDED, panel_cleanup=Order.PanelCleanup.UNKNOWN)
        .order_by("pk")[:limit]
    )


def orders_to_retry(limit: int = 100, *, panel_id: int | None = None) -> list[int]:
    """Paid orders not yet delivered whose lease is free, skipping rows another run locked.

    ``panel_id``: only that panel's (it just came back).
    """
    now = timezone.now()
    orders = Order.objects.all() if panel_id is None else Order.objects.filter(panel_id=panel_id)
    with transaction.atomic():
        ids = list(
            orders.select_for_update(skip_locked=True)
            .filter(status=Order.Status.PAID)
            .exclude(kind=Order.Kind.TOPUP)
            .filter(Q(provisioning_until__isnull=True) | Q(provisioning_until__lt=now))
            .order_by("paid_at")
            .values_list("pk", flat=True)[:limit]
        )
    return ids
