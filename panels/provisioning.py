"""Creating a paid order's client on its panel: idempotent, retried, never lost.

The order carries the client id, email and sub id before the panel is called, so a
retry after a lost answer looks the same client up instead of adding a second one.
No database lock is held during a panel call: a short lease on the order (set with a
compare-and-set) decides who provisions it.
"""

import base64
import enum
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import services as billing
from billing.models import Order
from panels.links import LinkError, build_link, subscription_url
from panels.models import ClientAccount, Inbound, Panel
from panels.qr import save_qr
from panels.services import (
    _remember_generation,
    panel_client,
    panel_record_failure,
    panel_record_success,
)
from panels.xui import (
    ClientNotFound,
    DuplicateEmail,
    LastClientError,
    PanelError,
    client_key,
    error_summary,
)

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


def _shadowsocks_password(method: str) -> str:
    # 2022 ciphers need a base64 key of the cipher's size (16 bytes for aes-128).
    size = 16 if "aes-128" in method else 32
    return base64.b64encode(secrets.token_bytes(size)).decode()


def order_reserve_client(order: Order) -> Order:
    """Give the order the identifiers its panel client will have (once, before any call)."""
    if order.client_uuid and order.client_email and order.client_sub_id:
        return order
    inbound = order.inbound
    protocol = inbound.protocol
    if protocol == "trojan":
        key = secrets.token_urlsafe(12)
    elif protocol == "shadowsocks":
        key = _shadowsocks_password(str((inbound.settings or {}).get("method", "")))
    else:
        key = str(uuid.uuid4())
    tag = order.user.telegram_id or order.user_id
    Order.objects.filter(pk=order.pk, client_uuid="").update(
        client_uuid=key,
        client_email=f"mv{tag}-{order.pk}".lower(),
        client_sub_id=secrets.token_hex(8),
    )
    order.refresh_from_db(fields=["client_uuid", "client_email", "client_sub_id"])
    return order


def panel_client_object(*, order: Order, expires_at) -> dict:
    """The client exactly as 3x-ui stores it; resent whole on every update."""
    inbound: Inbound = order.inbound
    plan = order.plan
    stream = inbound.stream_settings or {}
    client = {
        "email": order.client_email,
        "limitIp": plan.max_devices,
        "totalGB": plan.traffic_bytes,
        "expiryTime": int(expires_at.timestamp() * 1000) if expires_at else 0,
        "enable": True,
        "tgId": order.user.telegram_id or 0,
        "subId": order.client_sub_id,
        "comment": f"MoonVPN order {order.pk}",
        "reset": 0,
    }
    if inbound.protocol in ("trojan", "shadowsocks"):
        client["password"] = order.client_uuid
    else:
        client["id"] = order.client_uuid
    if inbound.protocol == "vmess":
        client["security"] = "auto"
    if inbound.protocol == "shadowsocks":
        # As the 3x-ui form does (inbound_modal.html): a legacy cipher's clients carry
        # the inbound's method -- Xray refuses a client with none ("unsupported cipher
        # method") and the inbound stops loading -- and 2022 clients carry "".
        method = str((inbound.settings or {}).get("method") or "")
        client["method"] = "" if method.startswith("2022-") else method
    if inbound.protocol == "vless":
        vision = stream.get("network") == "tcp" and stream.get("security") in ("tls", "reality")
        client["flow"] = "xtls-rprx-vision" if vision else ""
    return client


def inbound_as_panel_dict(inbound: Inbound) -> dict:
    return {
        "id": inbound.remote_id,
        "remark": inbound.remark,
        "protocol": inbound.protocol,
        "port": inbound.port,
        "listen": inbound.listen,
        "settings": inbound.settings or {},
        "streamSettings": inbound.stream_settings or {},
    }


def account_links(*, panel: Panel, inbound: Inbound, client: dict) -> tuple[str, str]:
    config = build_link(
        inbound=inbound_as_panel_dict(inbound), client=client, host=panel.public_host
    )
    return config, subscription_url(panel.sub_base_url, client.get("subId", ""))


def _claim(order_id: int) -> bool:
    now = timezone.now()
    return (
        Order.objects.filter(pk=order_id, status=Order.Status.PAID)
        .filter(Q(provisioning_until__isnull=True) | Q(provisioning_until__lt=now))
        .update(provisioning_until=now + LEASE, attempts=F("attempts") + 1)
        == 1
    )


def _give_up(order: Order) -> bool:
    if order.attempts >= settings.PROVISION_MAX_ATTEMPTS:
        return True
    deadline = timedelta(minutes=settings.PROVISION_REFUND_AFTER_MINUTES)
    return order.paid_at is not None and timezone.now() - order.paid_at >= deadline


def _create_on_panel(order: Order, client: dict) -> dict:
    xui = panel_client(order.panel)
    try:
        # Ask first when an earlier attempt may have created it and lost the answer.
        # The first attempt cannot have: its email is new, and a clash still shows up
        # as DuplicateEmail below. That saves a listing of the panel on most purchases.
        found = xui.find_client(order.client_email) if order.attempts > 1 else None
        if found is None:
            try:
                xui.add_client(order.inbound.remote_id, order.inbound.protocol, client)
            except DuplicateEmail:
                found = xui.find_client(order.client_email)
                if found is None:
                    raise
        if found is not None:
            client = found[1]
    finally:
        _remember_generation(order.panel, xui)
    return client


def order_provision(*, order_id: int) -> ProvisionResult:
    """Create the paid order's account on its panel; safe to call any number of times.

    A renewal or add-on order is applied to its account instead (panels.lifecycle).
    """
    order = Order.objects.select_related("user", "plan", "panel", "inbound", "addon").get(
        pk=order_id
    )
    renewal = order.kind in (Order.Kind.RENEW, Order.Kind.ADDON)
    if order.status == Order.Status.FULFILLED:
        if renewal:
            account = ClientAccount.objects.filter(pk=order.renews_id).first()
        else:
            account = ClientAccount.objects.filter(order=order).first()
        return ProvisionResult(Outcome.DELIVERED, order, account)
    if order.status != Order.Status.PAID or order.kind == Order.Kind.TOPUP:
        return ProvisionResult(Outcome.NOT_PAID, order)
    if not _claim(order.pk):
        return ProvisionResult(Outcome.BUSY, order)
    order.refresh_from_db(fields=["attempts", "provisioning_until", "status"])
    if renewal:
        # A renewal or add-on changes an existing client instead of creating one.
        from panels.lifecycle import order_apply

        return order_apply(order)
    order_reserve_client(order)
    expires_at = timezone.now() + timedelta(days=order.plan.duration_days)
    try:
        client = _create_on_panel(order, panel_client_object(order=order, expires_at=expires_at))
        config_url, sub_url = account_links(panel=order.panel, inbound=order.inbound, client=client)
    except (PanelError, LinkError) as exc:
        if isinstance(exc, PanelError):
            panel_record_failure(order.panel, exc)
        return _failed(order, error_summary(exc))
    panel_record_success(order.panel)

    key = client.get("password") if order.inbound.protocol in ("trojan", "shadowsocks") else None
    expiry_ms = int(client.get("expiryTime") or 0)
    if expiry_ms > 0:
        expires_at = datetime.fromtimestamp(expiry_ms / 1000, tz=UTC)
    qr_path = save_qr(text=config_url, name=order.client_email, media_root=settings.MEDIA_ROOT)
    try:
        with transaction.atomic():
            # User then order before the insert, whose foreign keys would otherwise
            # lock them the other way round (billing.services' locking policy).
            billing.order_lock(order_id=order.pk)
            account, _created = ClientAccount.objects.get_or_create(
                order=order,
                defaults={
                    "user": order.user,
                    "plan": order.plan,
                    "panel": order.panel,
                    "inbound": order.inbound,
                    "uuid": key or client.get("id") or order.client_uuid,
                    "email": order.client_email,
                    "sub_id": client.get("subId") or order.client_sub_id,
                    "config_url": config_url,
                    "subscription_url": sub_url,
                    "qr_code_path": qr_path,
                    "traffic_limit_bytes": order.plan.traffic_bytes,
                    "expires_at": expires_at,
                },
            )
            billing.order_transition(
                order=order,
                to_status=Order.Status.FULFILLED,
                fulfilled_at=timezone.now(),
                provisioning_until=None,
                last_error="",
            )
    except IntegrityError as exc:
        return _failed(order, f"could not save the account: {exc}")
    return ProvisionResult(Outcome.DELIVERED, order, account)


def _failed(order: Order, error: str) -> ProvisionResult:
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
        _remember_generation(order.panel, xui)
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


def orders_to_retry(limit: int = 100) -> list[int]:
    """Paid orders not yet delivered whose lease is free, skipping rows another run locked."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Order.objects.select_for_update(skip_locked=True)
            .filter(status=Order.Status.PAID)
            .exclude(kind=Order.Kind.TOPUP)
            .filter(Q(provisioning_until__isnull=True) | Q(provisioning_until__lt=now))
            .order_by("paid_at")
            .values_list("pk", flat=True)[:limit]
        )
    return ids
