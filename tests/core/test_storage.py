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
    assert content_type == storage.CONTENT_TYPES[ext] and stored.size_bytes == path.stat().st_size
    with Image.open(path) as kept:
        assert kept.format == fmt and kept.size == (40, 30)
        assert kept.convert("RGB").getpixel((20, 15)) == pytest.approx((255, 77, 46), abs=3)


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


# --- what is stored is a re-encoding: no metadata, no appended payload -------------------------

GPS = {2: (31.0, 14.0, 2.5), 1: "N", 4: (121.0, 28.0, 10.0), 3: "E"}  # latitude/longitude near Shanghai


def photo_with_location(fmt="JPEG", size=(60, 40), orientation=None) -> bytes:
    """A photo as a phone takes it: EXIF with a camera, GPS position and (optionally) an orientation."""
    img = Image.new("RGB", size, (0, 120, 255))
    img.paste((255, 0, 0), (0, 0, 10, 10))  # a red mark in the top-left corner of the sensor
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif.get_ifd(0x8825).update(GPS)  # GPSInfo
    if orientation:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, fmt, exif=exif.tobytes())
    return buf.getvalue()


def stored_image(key: str) -> Image.Image:
    path, _ctype = storage.open_stored(key)
    img = Image.open(path)
    img.load()
    return img


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_location_and_camera_metadata_are_not_stored(app, fmt):
    data = photo_with_location(fmt)
    with Image.open(io.BytesIO(data)) as original:  # the upload really carries them
        assert original.getexif().get_ifd(0x8825)
    stored = storage.save_image(data, "reviews/1")
    raw = storage.open_stored(stored.key)[0].read_bytes()
    assert b"PhoneMaker" not in raw and b"Exif" not in raw
    img = stored_image(stored.key)
    assert not img.getexif() and "exif" not in img.info and "xmp" not in img.info


def test_the_orientation_is_applied_to_the_pixels(app):
    # Orientation 6: the sensor's image must be turned 90 degrees clockwise to be upright.
    stored = storage.save_image(photo_with_location("JPEG", (60, 40), orientation=6), "reviews/1")
    img = stored_image(stored.key)
    assert img.size == (40, 60) and (stored.width, stored.height) == (40, 60)
    assert 0x0112 not in img.getexif()  # no orientation left to apply twice
    red, blue = img.convert("RGB").getpixel((35, 4)), img.convert("RGB").getpixel((4, 55))
    assert red[0] > 200 and red[2] < 60 and blue[2] > 200  # the mark is now top-right


def test_a_payload_appended_after_the_image_is_dropped(app):
    payload = b"<?php system($_GET['c']); ?>"
    data = image_bytes("JPEG") + payload
    stored = storage.save_image(data, "avatars")
    raw = storage.open_stored(stored.key)[0].read_bytes()
    assert payload not in raw and b"<?php" not in raw


def test_png_text_chunks_and_colour_profiles_are_dropped(app):
    from PIL import ImageCms, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address: 1 Example Road")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    Image.new("RGBA", (30, 30), (10, 200, 30, 128)).save(buf, "PNG", pnginfo=info, icc_profile=profile)
    stored = storage.save_image(buf.getvalue(), "avatars")
    raw = storage.open_stored(stored.key)[0].read_bytes()
    assert b"Example Road" not in raw and b"iCCP" not in raw
    img = stored_image(stored.key)
    assert img.mode == "RGBA" and img.getpixel((5, 5))[3] == 128  # transparency is pixels: kept


def test_a_6000_square_png_is_refused_before_decoding(app):
    bomb = io.BytesIO()
    Image.new("1", (6000, 6000)).save(bomb, "PNG")
    with pytest.raises(ValidationError) as err:
        storage.save_image(bomb.getvalue(), "avatars")
    assert err.value.code == "image_too_large"


def test_big_photos_are_stored_no_larger_than_the_edge_cap(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_EDGE", 100)
    stored = storage.save_image(image_bytes("JPEG", (400, 200)), "products/1")
    assert (stored.width, stored.height) == (100, 50) == stored_image(stored.key).size


def test_a_truncated_image_is_refused_with_a_message(app):
    data = image_bytes("JPEG", (300, 300))
    with pytest.raises(ValidationError) as err:
        storage.save_image(data[: len(data) // 2], "avatars")
    assert err.value.code == "unsupported_image"
