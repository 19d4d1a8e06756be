"""What a receipt image must be before it is stored: checked, and stripped of metadata.

Only JPEG, PNG and WebP are accepted (what phones and screenshots make). The pixel
count is checked from the header, before anything is decoded: a small file can
declare a 144-megapixel PNG that would take gigabytes to decode and thumbnail. The
stored copy is re-encoded from the pixels alone, so EXIF (a phone photo's GPS
position), text chunks and anything appended to the file are gone; the EXIF
orientation is applied first so the receipt still reads upright.
"""

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class ReceiptImageRefused(Exception):
    """The image cannot be a receipt; the message is for the customer."""


class ReceiptImageUnreadable(ReceiptImageRefused):
    """Not an image at all, or a broken one."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    extension: str


def receipt_image_clean(data: bytes, *, max_pixels: int) -> CleanImage:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise ReceiptImageRefused(_("only JPEG, PNG and WebP images are accepted."))
            width, height = image.size
            if width * height > max_pixels:
                raise ReceiptImageRefused(
                    _(
                        "the image is too large (over %(megapixels)s megapixels); please "
                        "send a screenshot or a smaller photo."
                    )
                    % {"megapixels": max_pixels // 1_000_000 or 1}
                )
            fmt = image.format
            image.load()
            upright = ImageOps.exif_transpose(image)
    except ReceiptImageRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ReceiptImageUnreadable(
            _("the image could not be read; please send a clear photo.")
        ) from None
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    buffer = io.BytesIO()
    options = {"quality": 90} if fmt in ("JPEG", "WEBP") else {"optimize": False}
    # No exif=, no pnginfo=: Pillow writes neither unless asked.
    upright.save(buffer, format=fmt, **options)
    return CleanImage(buffer.getvalue(), FORMATS[fmt])
