"""QR codes of share links, as PNG bytes or as files under MEDIA_ROOT."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["QR_DIR", "qr_png_bytes", "qr_relative_path", "save_qr"]

QR_DIR = "qrcodes"

# 8 px modules keep a ~500 px image for a long vmess link, small enough for Telegram
# previews and large enough to scan off a phone screen; 4 modules is the quiet zone
# the QR spec asks for.
BOX_SIZE = 8
BORDER = 4

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_NAME = 60


def qr_png_bytes(text: str) -> bytes:
    """A black-on-white PNG QR code (error correction M) that encodes ``text``."""
    if not isinstance(text, str) or not text:
        raise ValueError("QR text must be a non-empty string")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=BOX_SIZE, border=BORDER)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _safe_name(name: str) -> str:
    cleaned = _UNSAFE.sub("-", str(name)).strip("-_")[:_MAX_NAME].strip("-_")
    return cleaned or "qr"


def qr_relative_path(*, text: str, name: str) -> str:
    """Where :func:`save_qr` puts the QR of ``text``, relative to MEDIA_ROOT."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{QR_DIR}/{_safe_name(name)}-{digest}.png"


def _old_qr_file(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is inside the QR directory; a stored name is not
    trusted enough to delete, say, a payment receipt elsewhere under MEDIA_ROOT."""
    candidate = (root / relative).resolve()
    try:
        candidate.relative_to((root / QR_DIR).resolve())
    except ValueError:
        return None
    return candidate


def save_qr(*, text: str, name: str, media_root: str | os.PathLike[str], old_path: str = "") -> str:
    """Write the QR of ``text`` under ``<media_root>/qrcodes/`` and return its relative path.

    The file name carries a hash of the text, so a changed link (new uuid, new host)
    gets a new file and a cached Telegram photo of the old one is never reused.
    ``old_path`` -- the previously stored relative path -- is deleted when it differs
    from the new one; with the same text it is the same file and is kept.
    """
    root = Path(media_root)
    relative = qr_relative_path(text=text, name=name)
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)

    data = qr_png_bytes(text)
    # Temp file in the same directory so os.replace is an atomic rename: a reader
    # (the web server, the bot sending the photo) never sees half a PNG.
    fd, tmp_name = tempfile.mkstemp(prefix=".qr-", suffix=".png.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; the web server must read it
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise

    if old_path and old_path != relative:
        old = _old_qr_file(root, old_path)
        if old is not None and old != target.resolve() and old.is_file():
            try:
                old.unlink()
            except FileNotFoundError:
                pass  # already gone (another worker replaced it first)
    return relative
