"""Uploads: content-sniffed images only, size and pixel limits, server names."""
import io

import pytest
from PIL import Image

from app.core import storage
from app.core.errors import ValidationError


def image_bytes(fmt="PNG", size=(40, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, (255, 77, 46)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_accepts_real_images_under_a_server_name(app, fmt, ext):
    stored = storage.save_image(image_bytes(fmt), "avatars")
    assert stored.key.startswith("avatars/") and stored.key.endswith("." + ext)
    assert (stored.width, stored.height) == (40, 30)
    path, content_type = storage.open_stored(stored.key)
    assert path.read_bytes() == image_bytes(fmt) and content_type.startswith("image/")


@pytest.mark.parametrize("data,code", [
    (b"", "empty_file"),
    (b"just some text renamed to .png", "unsupported_image"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "unsupported_image"),
    (b"GIF89a" + b"\x00" * 20, "unsupported_image"),
])
def test_refuses_what_is_not_an_accepted_image(app, data, code):
    with pytest.raises(ValidationError) as err:
        storage.save_image(data, "avatars")
    assert err.value.code == code


def test_refuses_gif_even_when_valid(app):
    with pytest.raises(ValidationError):
        storage.save_image(image_bytes("GIF"), "avatars")


def test_refuses_oversize_files(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 100)
    with pytest.raises(ValidationError) as err:
        storage.save_image(image_bytes("PNG", (200, 200)), "avatars")
    assert err.value.code == "file_too_large"


def test_refuses_decompression_bombs_before_decoding(app):
    # A tiny PNG that claims 20000 x 20000 pixels (400 megapixels).
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 200_000
    with pytest.raises(ValidationError) as err:
        storage.save_image(bomb.getvalue(), "avatars")
    assert err.value.code == "image_too_large"


def test_stored_keys_cannot_escape_the_upload_folder(app):
    from app.core.errors import NotFound

    with pytest.raises(NotFound):
        storage.open_stored("../../etc/passwd")
