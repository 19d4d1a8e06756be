"""QR codes decode back to the link; files are replaced, never left behind."""

import io
import os
import re

import pytest
import zxingcpp
from PIL import Image

from panels.qr import qr_png_bytes, save_qr


@pytest.fixture(autouse=True)
def _media_root():
    """Pure functions: shadow the project conftest's Django-only autouse fixture."""


VLESS = (
    "vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?type=tcp"
    "&encryption=none&security=reality&pbk=Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw"
    "&fp=firefox&sni=www.speedtest.net&sid=6ba85179e30d4fc2&spx=%2Fprobe"
    "&flow=xtls-rprx-vision#%D8%A2%D9%84%D9%85%D8%A7%D9%86-alice"
)


def decode(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    return results[0].text


def test_png_bytes_decode_back_to_the_link():
    data = qr_png_bytes(VLESS)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert decode(image) == VLESS


def test_long_vmess_link_still_fits_and_decodes():
    link = "vmess://" + "eyJ2IjogIjIiLCAicHMiOiAiREUtMS1hbGljZSJ9" * 15
    assert decode(Image.open(io.BytesIO(qr_png_bytes(link)))) == link


def test_unicode_text_round_trips():
    text = "سلام vpn ۱۲۳"
    assert decode(Image.open(io.BytesIO(qr_png_bytes(text)))) == text


def test_empty_text_is_refused():
    with pytest.raises(ValueError):
        qr_png_bytes("")


def test_save_qr_writes_under_qrcodes_and_returns_a_relative_name(tmp_path):
    relative = save_qr(text=VLESS, name="alice", media_root=tmp_path)

    assert re.fullmatch(r"qrcodes/alice-[0-9a-f]{8}\.png", relative)
    path = tmp_path / relative
    assert decode(Image.open(path)) == VLESS
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert [p.name for p in (tmp_path / "qrcodes").iterdir()] == [path.name], "no temp files"


def test_save_qr_accepts_a_string_media_root(tmp_path):
    relative = save_qr(text=VLESS, name="bob", media_root=str(tmp_path))
    assert (tmp_path / relative).is_file()


def test_new_text_replaces_the_old_file(tmp_path):
    first = save_qr(text=VLESS, name="alice", media_root=tmp_path)
    changed = VLESS.replace("b831381d", "0c9e4f27")

    second = save_qr(text=changed, name="alice", media_root=tmp_path, old_path=first)

    assert second != first
    assert not (tmp_path / first).exists()
    assert decode(Image.open(tmp_path / second)) == changed


def test_same_text_keeps_the_file(tmp_path):
    first = save_qr(text=VLESS, name="alice", media_root=tmp_path)

    second = save_qr(text=VLESS, name="alice", media_root=tmp_path, old_path=first)

    assert second == first
    assert decode(Image.open(tmp_path / second)) == VLESS


def test_missing_old_file_is_not_an_error(tmp_path):
    relative = save_qr(text=VLESS, name="a", media_root=tmp_path, old_path="qrcodes/gone-1.png")
    assert (tmp_path / relative).is_file()


def test_old_path_outside_the_qr_folder_is_never_deleted(tmp_path):
    receipt = tmp_path / "receipts" / "r1.jpg"
    receipt.parent.mkdir()
    receipt.write_bytes(b"photo")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("keep")

    save_qr(text=VLESS, name="a", media_root=tmp_path, old_path="receipts/r1.jpg")
    save_qr(text=VLESS, name="b", media_root=tmp_path, old_path=f"../{outside.name}")
    save_qr(text=VLESS, name="c", media_root=tmp_path, old_path="qrcodes/../receipts/r1.jpg")

    assert receipt.read_bytes() == b"photo"
    assert outside.read_text() == "keep"


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("../../etc/passwd", "etc-passwd-"),
        ("alice@example.com", "alice-example-com-"),
        ("سرور", "qr-"),
        ("", "qr-"),
        ("a" * 200, "a" * 60 + "-"),
        ("user 42/DE-1", "user-42-DE-1-"),
    ],
)
def test_name_is_sanitised_to_a_safe_file_name(tmp_path, name, prefix):
    relative = save_qr(text=VLESS, name=name, media_root=tmp_path)
    folder, file_name = relative.split("/")
    assert folder == "qrcodes"
    assert file_name.startswith(prefix)
    assert re.fullmatch(r"[A-Za-z0-9_-]+-[0-9a-f]{8}\.png", file_name)
    assert (tmp_path / relative).resolve().parent == (tmp_path / "qrcodes").resolve()
