"""The share page, QR downloads and the poster as the centre serves them."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from app.distribution.models import Distributor
from app.extensions import db


@pytest.fixture
def sharer(client, login, set_rules, make_distributor):
    set_rules()
    distributor = make_distributor(nickname="小红")
    login(db.session.get(Distributor, distributor.id).user)
    return distributor


def test_share_page_shows_code_links_qr_and_poster(client, sharer, make_product):
    product = make_product(title="分享用的好物")
    html = client.get("/distributor/share").get_data(as_text=True)
    assert sharer.code in html and f"http://localhost/r/{sharer.code}" in html
    assert "/distributor/share/qr.svg" in html and "/distributor/share/poster.png" in html
    assert "分享用的好物" in html  # the product picker
    html = client.get(f"/distributor/share?product_id={product.id}").get_data(as_text=True)
    assert f"http://localhost/r/{sharer.code}/p/{product.id}" in html
    assert f"/distributor/share/poster.png?product_id={product.id}" in html


def test_public_base_url_makes_the_links(client, sharer, app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://shop.example.com/")
    html = client.get("/distributor/share").get_data(as_text=True)
    assert f"https://shop.example.com/r/{sharer.code}" in html


def test_qr_png_and_svg_download(client, sharer, make_product):
    product = make_product()
    png = client.get(f"/distributor/share/qr.png?product_id={product.id}&download=1")
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert png.headers["Content-Disposition"] == f'attachment; filename="qr-{sharer.code}-p{product.id}.png"'
    with Image.open(io.BytesIO(png.data)) as img:
        assert img.format == "PNG"
    svg = client.get("/distributor/share/qr.svg")
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    assert "Content-Disposition" not in svg.headers  # shown inline on the page
    assert svg.data.startswith(b"<?xml") and b"<svg" in svg.data


def test_poster_is_a_png_of_the_expected_size(client, sharer, make_product):
    product = make_product(title="海报商品")
    resp = client.get(f"/distributor/share/poster.png?product_id={product.id}&download=1")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    assert "attachment" in resp.headers["Content-Disposition"]
    with Image.open(io.BytesIO(resp.data)) as img:
        assert (img.format, img.size) == ("PNG", (750, 1334))


@pytest.mark.parametrize("path", ["/distributor/share", "/distributor/share/qr.png", "/distributor/share/qr.svg",
                                  "/distributor/share/poster.png"])
def test_products_shoppers_cannot_see_are_404(client, sharer, make_product, make_merchant, path):
    draft = make_product(merchant=make_merchant(), status="draft", title="别人的草稿")
    off_sale = make_product(status="off_sale")
    for product_id in (draft.id, off_sale.id, 999999, "abc"):
        resp = client.get(f"{path}?product_id={product_id}")
        assert resp.status_code == 404, product_id
        assert "别人的草稿" not in resp.get_data(as_text=True)
