"""Product images: stored through app.core.storage, with a square thumbnail."""
from __future__ import annotations

import io

from PIL import Image, ImageOps

from app.core import storage

THUMB_SIZE = 400


def make_thumbnail(data: bytes) -> bytes:
    """A centred square crop, THUMB_SIZE wide, as WebP (small and sharp)."""
    with Image.open(io.BytesIO(data)) as img:
        img = ImageOps.exif_transpose(img).convert("RGB")
        thumb = ImageOps.fit(img, (THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        thumb.save(out, "WEBP", quality=82)
        return out.getvalue()


def store(data: bytes, product_id: int) -> tuple[storage.StoredFile, storage.StoredFile]:
    original = storage.save_image(data, f"products/{product_id}")
    thumb = storage.save_image(make_thumbnail(data), f"products/{product_id}")
    return original, thumb
