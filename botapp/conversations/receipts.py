"""A receipt photo from the customer: matched to the order that awaits it, sent to operators."""

import logging
import uuid

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import services as billing
from billing.models import Order, Receipt
from billing.receipt_images import (
    ReceiptImageRefused,
    ReceiptImageUnreadable,
    receipt_image_clean,
)
from botapp import keyboards, notify, texts
from botapp import telegram as tg
from botapp.context import (
    RECENT_ORDER,
    Ctx,
)

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)


def is_image_document(document) -> bool:
    return bool(document and (document.mime_type or "").lower().startswith("image/"))


def order_awaiting_receipt(user) -> Order | None:
    # A rejected receipt leaves its order waiting; prefer orders with no receipt in review.
    in_review = Receipt.objects.filter(order=OuterRef("pk"), status=Receipt.Status.PENDING)
    return (
        Order.objects.filter(user=user, status=Order.Status.AWAITING_RECEIPT)
        .annotate(in_review=Exists(in_review))
        .order_by("in_review", "-updated_at", "-pk")
        .first()
    )


def _explain_no_receipt_order(ctx: Ctx) -> None:
    # The photo is most likely meant for the order the customer last dealt with.
    recent = (
        Order.objects.filter(user=ctx.user, updated_at__gte=timezone.now() - RECENT_ORDER)
        .exclude(status=Order.Status.PENDING)
        .order_by("-updated_at", "-pk")
        .first()
    )
    if recent is not None and recent.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
        ctx.send(texts.receipt_for_cancelled(recent), keyboards.menu())
    elif recent is not None and recent.status in (
        Order.Status.PAID,
        Order.Status.FULFILLED,
        Order.Status.REFUNDED,
    ):
        ctx.send(texts.receipt_for_paid(recent), keyboards.menu())
    else:
        ctx.send(texts.no_order_awaits_receipt(), keyboards.menu())


def on_receipt_image(ctx: Ctx, message) -> None:
    order = order_awaiting_receipt(ctx.user)
    if order is None:
        _explain_no_receipt_order(ctx)
        return
    if message.content_type == "photo":
        largest = message.photo[-1]
        file_id, unique_id = largest.file_id, largest.file_unique_id
    else:
        file_id, unique_id = message.document.file_id, message.document.file_unique_id
    limit = settings.RECEIPT_MAX_BYTES
    try:
        data = tg.download(file_id, max_bytes=limit)
        if data is None:
            ctx.send(texts.unreadable_image())
            return
        image = receipt_image_clean(data, max_pixels=settings.RECEIPT_MAX_PIXELS)
    except tg.FileTooBig:
        reason = _("the file is larger than %(megabytes)s MB.") % {
            "megabytes": max(limit // (1024 * 1024), 1)
        }
        ctx.send(texts.receipt_refused(order, reason))
        return
    except ReceiptImageUnreadable:
        ctx.send(texts.unreadable_image())
        return
    except ReceiptImageRefused as exc:
        ctx.send(texts.receipt_refused(order, exc))
        return
    data, extension = image.data, image.extension
    try:
        receipt = billing.receipt_submit(
            order=order,
            image_name=f"order{order.pk}-{uuid.uuid4().hex[:8]}.{extension}",
            image_bytes=data,
            file_unique_id=unique_id or "",
        )
    except billing.OrderNotPayable:
        order.refresh_from_db()
        if order.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
            ctx.send(texts.receipt_for_cancelled(order), keyboards.menu())
        else:
            ctx.send(texts.receipt_for_paid(order), keyboards.menu())
        return
    except billing.BillingError as exc:
        ctx.send(texts.receipt_refused(order, exc))
        return
    ctx.send(texts.receipt_received(order), keyboards.back_to_menu())
    # A photo's file_id can be sent on as a photo; an image document's cannot.
    notify.receipt_to_operators(receipt, photo=file_id if message.content_type == "photo" else data)
