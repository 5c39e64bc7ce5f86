"""QR codes and the share poster (app.distribution.share)."""
from __future__ import annotations

import io

import pytest
import segno
from PIL import Image

from app.catalog.models import ProductImage
from app.core import storage
from app.distribution import share
from app.extensions import db
from tests.factories import png_bytes

URL = "https://shop.example.com/r/ABC234/p/7?s=qr"


def modules_of(png: bytes, scale: int = 10, border: int = 2) -> list[list[bool]]:
    """Read the dark modules back out of a QR PNG by sampling each module's centre."""
    with Image.open(io.BytesIO(png)) as img:
        img = img.convert("L")
        count = img.width // scale - 2 * border
        return [[img.getpixel(((border + x) * scale + scale // 2, (border + y) * scale + scale // 2)) < 128
                 for x in range(count)] for y in range(count)]


def test_qr_png_is_a_png_of_exactly_that_url():
    png = share.qr_png(URL)
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG"
    expected = [[bool(m) for m in row] for row in segno.make(URL, error="m", micro=False).matrix]
    assert modules_of(png) == expected
    assert modules_of(share.qr_png(URL + "x")) != expected


def test_qr_svg_is_an_svg_document():
    svg = share.qr_svg(URL)
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b'xmlns="http://www.w3.org/2000/svg"' in svg


def test_wrap_breaks_chinese_by_width_and_marks_a_cut():
    face = share.font(30)
    lines = share.wrap("超长的商品标题" * 10, face, 300, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(face.getlength(line) <= 300 for line in lines)
    assert share.wrap("短标题", face, 300, 2) == ["短标题"]


def poster(product, distributor, url=URL) -> Image.Image:
    data = share.poster_png(product, distributor, url)
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return img


def test_poster_with_the_product_image(make_product, make_distributor, set_rules):
    set_rules()
    product = make_product(title="福建安溪铁观音 浓香型 500g 礼盒装", price_fen=12880)
    stored = storage.save_image(png_bytes(size=(800, 600), color=(0, 120, 255)), f"products/{product.id}")
    db.session.add(ProductImage(product_id=product.id, key=stored.key, thumb_key=stored.key, position=0))
    db.session.commit()
    distributor = make_distributor(nickname="小红")
    img = poster(db.session.get(type(product), product.id), distributor)
    assert img.size == share.POSTER_SIZE
    assert img.convert("RGB").getpixel((375, 300)) == (0, 120, 255)  # the product image fills the top


def test_poster_without_an_image_draws_a_placeholder(make_product, make_distributor, set_rules):
    set_rules()
    product = make_product(title="无图商品")
    img = poster(product, make_distributor())
    assert img.size == share.POSTER_SIZE
    assert img.convert("RGB").getpixel((5, 5)) == (255, 241, 238)


def test_poster_of_a_missing_stored_file_still_works(make_product, make_distributor, set_rules):
    set_rules()
    product = make_product()
    db.session.add(ProductImage(product_id=product.id, key="products/1/gone.png", thumb_key="products/1/gone.png"))
    db.session.commit()
    assert poster(db.session.get(type(product), product.id), make_distributor()).size == share.POSTER_SIZE


def test_shop_poster_without_a_product(make_distributor, set_rules):
    set_rules()
    assert poster(None, make_distributor()).size == share.POSTER_SIZE


def test_without_a_cjk_font_the_default_font_is_used(monkeypatch, make_product, make_distributor, set_rules):
    set_rules()
    monkeypatch.setattr(share, "CJK_FONTS", (("/nonexistent/font.ttc", 0),))
    share._font_file.cache_clear()
    try:
        assert not share.has_cjk_font()
        assert poster(make_product(), make_distributor()).size == share.POSTER_SIZE
    finally:
        share._font_file.cache_clear()


@pytest.mark.skipif(not share.has_cjk_font(), reason="fonts-noto-cjk is not installed")
def test_the_cjk_font_is_found():
    assert "CJK" in share.font(20).getname()[0]
