"""Small receipt thumbnails for the receipt list: made once, cached as files, cacheable.

A list of 100 receipts used to pull 100 full-size photos through Django. Now each row
asks for ``<image URL>?thumb=1`` (the same permission-checked view): a 128×96 JPEG
written next to the media files the first time and served from disk after, with
headers that let the browser keep it (the image of a receipt never changes).
"""

import hashlib
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.utils.http import http_date

THUMB_SIZE = (128, 96)
MAX_AGE = 7 * 24 * 3600


def thumbnail_path(receipt) -> Path:
    key = receipt.sha256 or hashlib.sha256(receipt.image.name.encode()).hexdigest()
    return Path(settings.MEDIA_ROOT) / "receipt-thumbs" / f"{receipt.pk}-{key[:16]}.jpg"


def ensure_thumbnail(receipt) -> Path:
    path = thumbnail_path(receipt)
    if path.exists():
        return path
    from PIL import Image, UnidentifiedImageError

    try:
        with receipt.image.open("rb") as handle, Image.open(handle) as image:
            image.thumbnail(THUMB_SIZE)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            image.convert("RGB").save(partial, "JPEG", quality=70)
            partial.replace(path)
    except (FileNotFoundError, ValueError, OSError, UnidentifiedImageError) as exc:
        raise Http404("The receipt image file is missing or unreadable.") from exc
    return path


def thumbnail_response(receipt) -> FileResponse:
    path = ensure_thumbnail(receipt)
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    # Private: a receipt shows bank details; only this operator's browser keeps it.
    response["Cache-Control"] = f"private, max-age={MAX_AGE}, immutable"
    response["Last-Modified"] = http_date(path.stat().st_mtime)
    return response
