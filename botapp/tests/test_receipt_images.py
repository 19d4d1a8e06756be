"""Receipt images: JPEG, PNG and WebP only, bounded in pixels and bytes, no metadata kept."""

import io
import os

import pytest
from PIL import Image

from billing.models import Order, Receipt
from botapp.tests.conftest import JOHN

pytestmark = pytest.mark.django_db


def _awaiting(bot, django_user_model, card):
    bot.send(JOHN, "/start", first_name="John", language_code="en")
    john = django_user_model.objects.get(telegram_id=JOHN)
    return Order.objects.create(
        user=john,
        kind=Order.Kind.TOPUP,
        amount=200_000,
        payment_method=Order.PaymentMethod.RECEIPT,
        status=Order.Status.AWAITING_RECEIPT,
    )


def _image(fmt: str, size=(64, 48), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (35.0, 41.0, 21.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (51.0, 23.0, 20.0)
    return _image("JPEG", exif=exif)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused_with_the_reason(bot, tg, card, django_user_model, fmt):
    order = _awaiting(bot, django_user_model, card)
    bot.document(JOHN, _image(fmt), file_name=f"r.{fmt.lower()}", mime_type=f"image/{fmt.lower()}")
    assert Receipt.objects.count() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_RECEIPT
    assert "only JPEG, PNG and WebP images are accepted" in tg.texts_to(JOHN)[-1]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_are_accepted(bot, tg, card, django_user_model, fmt):
    _awaiting(bot, django_user_model, card)
    bot.document(JOHN, _image(fmt), file_name="r", mime_type=f"image/{fmt.lower()}")
    assert Receipt.objects.count() == 1


def test_an_image_over_the_pixel_limit_is_refused(bot, tg, card, django_user_model, settings):
    settings.RECEIPT_MAX_PIXELS = 1_000_000
    _awaiting(bot, django_user_model, card)
    # A few kilobytes of PNG that would decode to 4 megapixels.
    bot.document(JOHN, _image("PNG", size=(2000, 2000)), file_name="r.png", mime_type="image/png")
    assert Receipt.objects.count() == 0
    assert "too large" in tg.texts_to(JOHN)[-1]


def test_exif_and_its_gps_position_are_not_stored(bot, tg, card, django_user_model):
    _awaiting(bot, django_user_model, card)
    original = _jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    bot.document(JOHN, original, file_name="r.jpg", mime_type="image/jpeg")
    receipt = Receipt.objects.get()
    with receipt.image.open("rb") as stored:
        data = stored.read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert b"PhoneMaker" not in data and b"Exif" not in data


def test_without_a_file_size_the_download_stops_at_the_limit(
    bot, tg, card, django_user_model, settings
):
    settings.RECEIPT_MAX_BYTES = 512 * 1024
    tg.report_file_size = False
    order = _awaiting(bot, django_user_model, card)
    huge = os.urandom(19 * 1024 * 1024)
    bot.document(JOHN, huge, file_name="r.png", mime_type="image/png")

    assert Receipt.objects.count() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_RECEIPT
    assert "larger than" in tg.texts_to(JOHN)[-1]
    # Kernel buffers take a few megabytes more; reading it all would be 19.
    assert tg.download_bytes_sent < 12 * 1024 * 1024
