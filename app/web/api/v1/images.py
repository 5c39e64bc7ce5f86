"""Images sent inside a JSON body (review photos, after-sales evidence): each a base64
string, or a data URL as a web view makes (`data:image/png;base64,...`). The bytes go
to the domain services, which check and re-encode them (app.core.storage)."""
from __future__ import annotations

import base64
import binascii

from flask_babel import gettext as _

from app.core.errors import ValidationError

DESCRIPTION = "base64 JPEG/PNG/WebP images, or data URLs (data:image/png;base64,...); 5 MB each before encoding"


def decode_images(raw: list[str], field: str = "images") -> list[bytes]:
    """The images' bytes; a 422 `invalid_image` naming the first one that is not base64."""
    images = []
    for i, text in enumerate(raw):
        text = (text or "").strip()
        if text.startswith("data:") and "," in text:  # a data URL from a web view
            text = text.split(",", 1)[1]
        try:
            images.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise ValidationError(_("图片格式不正确"), code="invalid_image",
                                  fields={f"{field}.{i}": _("图片格式不正确")}) from None
    return images
