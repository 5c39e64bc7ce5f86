"""Uploads. Every uploaded image goes through `save_image`, which:

- sniffs the content with Pillow and accepts JPEG, PNG and WebP only (the file
  name and the client's content type are ignored);
- refuses files over `UPLOAD_MAX_BYTES` and images over `UPLOAD_MAX_PIXELS`
  (a decompression bomb is refused before it is decoded);
- stores a re-encoding of its pixels, never the uploaded bytes: EXIF (GPS
  included), XMP, text chunks and anything appended after the image data are
  gone, the EXIF orientation is applied to the pixels first, colours are moved
  to sRGB when a profile says otherwise, and the long edge is capped at
  `UPLOAD_MAX_EDGE` pixels;
- stores it under a server-generated name, in the instance folder by default.

Files are served back with the content type recorded at upload time.
"""
from __future__ import annotations

import functools
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.core.errors import NotFound, ValidationError

FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
CONTENT_TYPES = {ext: ctype for ext, ctype in FORMATS.values()}


@dataclass(frozen=True)
class StoredFile:
    key: str  # e.g. "avatars/3f9a...c1.png"
    content_type: str
    width: int
    height: int
    size_bytes: int


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def check_image(data: bytes) -> tuple[str, int, int]:
    """Return (format, width, height) or raise ValidationError with a clear message."""
    max_bytes = current_app.config["UPLOAD_MAX_BYTES"]
    max_pixels = current_app.config["UPLOAD_MAX_PIXELS"]
    if not data:
        raise ValidationError(_("请选择要上传的图片"), code="empty_file")
    if len(data) > max_bytes:
        raise ValidationError(_("图片不能超过 %(n)d MB", n=max_bytes // (1024 * 1024)), code="file_too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format, img.size
                if width * height > max_pixels:
                    raise ValidationError(_("图片像素过大"), code="image_too_large")
                img.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_("图片像素过大"), code="image_too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(_("只支持 JPEG、PNG 或 WebP 图片"), code="unsupported_image") from None
    if fmt not in FORMATS:
        raise ValidationError(_("只支持 JPEG、PNG 或 WebP 图片"), code="unsupported_image")
    return fmt, width, height


def save_image(data: bytes, folder: str) -> StoredFile:
    """Check an upload and store a clean re-encoding of it (see the module docstring)."""
    fmt = check_image(data)[0]
    clean, width, height = reencode(data, fmt)
    ext, ctype = FORMATS[fmt]
    key = f"{folder}/{secrets.token_hex(16)}.{ext}"
    path = upload_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(clean)
    return StoredFile(key=key, content_type=ctype, width=width, height=height, size_bytes=len(clean))


# Modes each format can be written in without losing transparency; anything else is converted.
WRITABLE_MODES = {"JPEG": ("L", "RGB"), "PNG": ("1", "L", "LA", "P", "RGB", "RGBA"), "WEBP": ("RGB", "RGBA")}


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def reencode(data: bytes, fmt: str) -> tuple[bytes, int, int]:
    """The pixels of an image checked by `check_image`, written afresh in the same format.

    Only the first frame of an animated image is kept. Returns (bytes, width, height)."""
    max_edge = current_app.config["UPLOAD_MAX_EDGE"]
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img)  # a copy, turned upright, that no longer claims an orientation
            img = _to_srgb(img)
            if max(img.size) > max_edge:
                img.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
            if img.mode not in WRITABLE_MODES[fmt]:
                transparent = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
                img = img.convert("RGBA" if transparent and fmt != "JPEG" else "RGB")
            # Writers copy some metadata from `info` (PNG: the ICC profile and transparency;
            # WebP and JPEG: EXIF and XMP in some versions): keep only the transparency of
            # a palette image, which is pixels, not metadata.
            img.info = {k: v for k, v in img.info.items() if k == "transparency"}
            out = io.BytesIO()
            if fmt == "JPEG":
                img.save(out, "JPEG", quality=88, optimize=True)
            elif fmt == "PNG":
                img.save(out, "PNG", optimize=True)
            else:
                img.save(out, "WEBP", quality=88, method=4)
            return out.getvalue(), img.width, img.height
    except (OSError, SyntaxError, ValueError):  # truncated or corrupt data that `verify` let through
        raise ValidationError(_("图片已损坏，请换一张"), code="unsupported_image") from None


def _to_srgb(img: Image.Image) -> Image.Image:
    """Convert from an embedded colour profile to sRGB, so dropping the profile keeps the colours.
    A profile that cannot be read is ignored (the pixels are kept as they are)."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "L", "LA"):
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if "A" in img.mode else "RGB"
        return ImageCms.profileToProfile(img.convert(mode), source, _srgb_profile(), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img


def open_stored(key: str) -> tuple[Path, str]:
    """Resolve a stored key to (path, content type); NotFound-safe against traversal."""
    root = upload_root().resolve()
    path = (root / key).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(_("文件不存在"))
    ext = path.suffix.lstrip(".")
    return path, CONTENT_TYPES.get(ext, "application/octet-stream")


def delete_stored(key: str) -> None:
    path = upload_root() / key
    if path.is_file():
        path.unlink()
