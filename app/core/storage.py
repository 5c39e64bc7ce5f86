"""Uploads. Every uploaded image goes through `save_image`, which:

- sniffs the content with Pillow and accepts JPEG, PNG and WebP only (the file
  name and the client's content type are ignored);
- refuses files over `UPLOAD_MAX_BYTES` and images over `UPLOAD_MAX_PIXELS`
  (a decompression bomb is refused before it is decoded);
- stores it under a server-generated name, in the instance folder by default.

Files are served back with the content type recorded at upload time.
"""
from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

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
    fmt, width, height = check_image(data)
    ext, ctype = FORMATS[fmt]
    key = f"{folder}/{secrets.token_hex(16)}.{ext}"
    path = upload_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return StoredFile(key=key, content_type=ctype, width=width, height=height, size_bytes=len(data))


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
