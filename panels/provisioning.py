"""Creating a paid order's client on its panel: idempotent, retried, never lost.

The order carries the client id, email and sub id before the panel is called, so a
retry after a lost answer looks the same client up instead of adding a second one.
No database lock is held during a panel call: a short lease on the order (set with a
compare-and-set) decides who provisions it.
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import services as billing
from billing.models import Order
from panels.health import panel_record_failure, panel_record_success
from panels.links import LinkError, account_links
from panels.models import ClientAccount, Inbound
from panels.orders import (  # noqa: F401 - the outcome types and give-up are used from here
    LEASE,
    Outcome,
    ProvisionResult,
    order_claim,
    order_failed,
    order_give_up,
    order_undo_client,
    orders_to_retry,
    orders_to_undo,
)
from panels.qr import save_qr
from panels.renewals import order_apply
from panels.sessions import panel_client, panel_remember_generation
from panels.xui import (
    DuplicateEmail,
    PanelError,
    datetime_to_ms,
    error_summary,
    ms_to_datetime,
    new_client_secret,
)

log = logging.getLogger(__name__)


def client_identifiers(order: Order) -> dict:
    """The identifiers the order's panel client will have that it lacks yet (else {}).

    They are written with the provisioning lease (``order_claim``), before any panel
    call, so that a retry after a lost answer looks the same client up. One already
    there is kept.
    """
    missing = {}
    if not order.client_uuid:
        inbound = order.inbound
        (missing["client_uuid"],) = new_client_secret(inbound.protocol, inbound.settings).values()
    if not order.client_email:
        tag = order.user.telegram_id or order.user_id
        missing["client_email"] = f"mv{tag}-{order.pk}".lower()
    if not order.client_sub_id:
        missing["client_sub_id"] = secrets.token_hex(8)
    return missing


def panel_client_object(*, order: Order, expires_at) -> dict:
    """The client exactly as 3x-ui stores it; resent whole on every update."""
    inbound: Inbound = order.inbound
    plan = order.plan
    stream = inbound.stream_settings or {}
    client = {
        "email": order.client_email,
        "limitIp": plan.max_devices,
        "totalGB": plan.traffic_bytes,
        "expiryTime": datetime_to_ms(expires_at),
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
        panel_remember_generation(order.panel, xui)
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
    # A renewal or add-on changes an existing client: it needs no identifiers.
    reserve = None if renewal else client_identifiers(order)
    # Sets the lease, the attempt count and any new identifiers on ``order``.
    if not order_claim(order.pk, order=order, reserve=reserve):
        return ProvisionResult(Outcome.BUSY, order)
    if renewal:
        return order_apply(order)
    expires_at = timezone.now() + timedelta(days=order.plan.duration_days)
    try:
        client = _create_on_panel(order, panel_client_object(order=order, expires_at=expires_at))
        config_url, sub_url = account_links(panel=order.panel, inbound=order.inbound, client=client)
    except (PanelError, LinkError) as exc:
        if isinstance(exc, PanelError):
            panel_record_failure(order.panel, exc)
        return order_failed(order, error_summary(exc))
    panel_record_success(order.panel)

    key = client.get("password") if order.inbound.protocol in ("trojan", "shadowsocks") else None
    expires_at = ms_to_datetime(client.get("expiryTime")) or expires_at
    qr_path = save_qr(text=config_url, name=order.client_email, media_root=settings.MEDIA_ROOT)
    try:
        with transaction.atomic():
            # User then order before the insert, whose foreign keys would otherwise
            # lock them the other way round (billing.services' locking policy): the
            # fulfilment's compare-and-set is the order's lock.
            billing.user_lock(user_id=order.user_id)
            billing.order_transition(
                order=order,
                to_status=Order.Status.FULFILLED,
                fulfilled_at=timezone.now(),
                provisioning_until=None,
                last_error="",
            )
            # No account can exist for this order yet: the only one ever made for an
            # order is made here, in the transaction that fulfils the order, and the
            # compare-and-set above found it unfulfilled. (Were one there, the insert
            # would fail on the one-to-one and the attempt be retried: never a second.)
            account = ClientAccount.objects.create(
                order=order,
                user=order.user,
                plan=order.plan,
                panel=order.panel,
                inbound=order.inbound,
                uuid=key or client.get("id") or order.client_uuid,
                email=order.client_email,
                sub_id=client.get("subId") or order.client_sub_id,
                config_url=config_url,
                subscription_url=sub_url,
                qr_code_path=qr_path,
                traffic_limit_bytes=order.plan.traffic_bytes,
                expires_at=expires_at,
            )
    except IntegrityError as exc:
        order.refresh_from_db()  # the fulfilment above was rolled back with the insert
        return order_failed(order, f"could not save the account: {exc}")
    return ProvisionResult(Outcome.DELIVERED, order, account)
