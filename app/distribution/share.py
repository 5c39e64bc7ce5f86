"""What a distributor shares: QR codes of their links (segno) and a share poster (Pillow).

Guarantees:
- `qr_png` / `qr_svg` encode exactly the URL given (error correction M, a quiet
  zone of 2 modules) and return the file's bytes.
- `poster_png` returns a 750x1334 PNG (a phone screen at 2x): the product's main
  image or a placeholder block, its title wrapped to at most three lines, its
  price (the promotion price while the promotion runs), the QR code of `url`,
  and "<nickname> 推荐". A stored image that is missing or unreadable gives the
  placeholder, never an error.

Chinese text needs a CJK font. Noto Sans CJK (Debian's fonts-noto-cjk, which
scripts/ensure_chromium.sh installs) is looked for first, then any other CJK
font named in CJK_FONTS; without one, Pillow's built-in font is used: the
poster is still made, but its Chinese characters come out as empty boxes.
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import segno
from flask_babel import gettext as _
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from app.core.errors import NotFound
from app.core.money import fen_to_yuan
from app.core.storage import open_stored

POSTER_SIZE = (750, 1334)
IMAGE_BOX = (750, 750)
QR_SIZE = 220
# (path, face index): the .ttc collections hold JP, KR, SC, TC, HK; 2 is Simplified Chinese.
CJK_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)
BRAND = (255, 77, 46)
INK = (31, 35, 41)
GREY = (100, 106, 115)
LIGHT = (245, 246, 247)
RULE = (222, 224, 227)


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_png(url: str, scale: int = 10) -> bytes:
    out = io.BytesIO()
    _qr(url).save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def qr_svg(url: str, scale: int = 10) -> bytes:
    out = io.BytesIO()
    _qr(url).save(out, kind="svg", scale=scale, border=2, xmldecl=True, svgns=True)
    return out.getvalue()


@lru_cache(maxsize=1)
def _font_file() -> tuple[str, int] | None:
    for path, index in CJK_FONTS:
        if Path(path).is_file():
            return path, index
    return None


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A CJK font at `size` px, or Pillow's built-in one when no CJK font is installed."""
    found = _font_file()
    if found:
        try:
            return ImageFont.truetype(found[0], size, index=found[1])
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def has_cjk_font() -> bool:
    return _font_file() is not None


def wrap(text: str, face, width: int, max_lines: int) -> list[str]:
    """Break `text` into lines no wider than `width` px, character by character
    (Chinese has no spaces to break at); the last line ends in … when cut."""
    lines: list[str] = []
    line = ""
    for ch in text.replace("\n", " ").strip():
        if face.getlength(line + ch) <= width:
            line += ch
            continue
        lines.append(line)
        line = ch
        if len(lines) == max_lines:
            break
    else:
        if line:
            lines.append(line)
        return lines
    last = lines[-1]
    while last and face.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last + "…"
    return lines


def _product_image(product) -> Image.Image | None:
    """The product's main image cover-cropped to the image box, or None."""
    image = product.main_image if product is not None else None
    if image is None:
        return None
    for key in (image.key, image.thumb_key):
        if not key:
            continue
        try:
            path, _ctype = open_stored(key)
            with Image.open(path) as img:
                img.draft("RGB", IMAGE_BOX)  # JPEG: decode at a reduced size when it can
                return ImageOps.fit(img.convert("RGB"), IMAGE_BOX, Image.Resampling.LANCZOS)
        except (NotFound, OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            continue
    return None


def _placeholder(canvas: Image.Image, draw: ImageDraw.ImageDraw, title: str) -> None:
    """A soft block with the product's first character, where the image would be."""
    draw.rectangle((0, 0, *IMAGE_BOX), fill=(255, 241, 238))
    initial = (title.strip() or "?")[0]
    face = font(280)
    box = draw.textbbox((0, 0), initial, font=face)
    x = (IMAGE_BOX[0] - (box[2] - box[0])) / 2 - box[0]
    y = (IMAGE_BOX[1] - (box[3] - box[1])) / 2 - box[1]
    draw.text((x, y), initial, font=face, fill=(255, 160, 143))


def price_fen(product) -> int:
    live = product.promotion_live() and product.promotion_price_fen
    return product.promotion_price_fen if live else product.price_fen


def poster_png(product, distributor, url: str) -> bytes:
    """The share poster of `product` (None: a shop poster) for `distributor`, its QR code pointing at `url`."""
    canvas = Image.new("RGB", POSTER_SIZE, "white")
    draw = ImageDraw.Draw(canvas)
    title = product.title if product is not None else _("多用户商城")
    picture = _product_image(product)
    if picture is not None:
        canvas.paste(picture, (0, 0))
    else:
        _placeholder(canvas, draw, title)

    margin = 40
    # The bottom band: who recommends it on the left, the QR code on the right.
    band_top = POSTER_SIZE[1] - QR_SIZE - 2 * margin
    y = IMAGE_BOX[1] + 28
    if product is not None:
        yuan, _dot, cents = fen_to_yuan(price_fen(product)).partition(".")
        small, big = font(36), font(64)
        baseline = y + 64  # "¥", yuan and fen share one baseline
        draw.text((margin, baseline), "¥", font=small, fill=BRAND, anchor="ls")
        x = margin + small.getlength("¥") + 4
        draw.text((x, baseline), yuan, font=big, fill=BRAND, anchor="ls")
        x += big.getlength(yuan)
        draw.text((x, baseline), "." + cents, font=small, fill=BRAND, anchor="ls")
        y += 86
    title_face, line_height = font(34), 50
    max_lines = max(1, (band_top - 12 - y) // line_height)
    for line in wrap(title, title_face, POSTER_SIZE[0] - 2 * margin, min(3, max_lines)):
        draw.text((margin, y), line, font=title_face, fill=INK)
        y += line_height

    draw.line((margin, band_top, POSTER_SIZE[0] - margin, band_top), fill=RULE, width=2)
    qr = Image.open(io.BytesIO(qr_png(url, scale=8))).convert("RGB").resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)
    qr_x, qr_y = POSTER_SIZE[0] - margin - QR_SIZE, band_top + margin
    canvas.paste(qr, (qr_x, qr_y))
    nickname = distributor.user.display_name if distributor is not None and distributor.user else ""
    text_width = qr_x - margin - 24
    name_face, hint_face = font(34), font(26)
    name_line = wrap(_("%(name)s 推荐", name=nickname), name_face, text_width, 1)
    draw.text((margin, qr_y + 30), name_line[0] if name_line else "", font=name_face, fill=INK)
    draw.text((margin, qr_y + 96), _("长按识别二维码"), font=hint_face, fill=GREY)
    draw.text((margin, qr_y + 136), _("查看商品详情") if product is not None else _("进入商城逛逛"), font=hint_face,
              fill=GREY)

    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()
