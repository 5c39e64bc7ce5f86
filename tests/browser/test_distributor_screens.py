"""The distributor centre in Chromium at phone and desktop size: the centre, the
share page with its poster, the withdrawal form with the fee shown, the confirm
step and the team page (screenshots in tests/browser/screenshots/)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.catalog.models import ProductImage
from app.core import storage
from app.core.db import transaction
from app.distribution import referrals
from app.extensions import db
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import sign_in
from tests.distribution.conftest import set_rules  # noqa: F401
from tests.factories import png_bytes
from tests.web.distributor.conftest import balance, bring_order, settle_order  # noqa: F401

pytestmark = pytest.mark.live_db


def test_distributor_centre_pages(open_context, live_server, set_rules, make_distributor, make_user,  # noqa: F811
                                  make_product, balance, snap):  # noqa: F811
    set_rules(withdrawal_fee_percent="1", withdrawal_min="10", withdrawal_max="5000")
    me = make_distributor(phone="13655570001", nickname="小红的好物铺")
    code = me.code
    for n, name in enumerate(("阿杰", "小美", "王老师")):
        child = make_distributor(parent=me, phone=f"1365557010{n}", nickname=name)
        make_distributor(parent=child, phone=f"1365557020{n}", nickname=f"{name}的朋友")
    with transaction():
        referrals.bind(make_user(nickname="常买水果的李姐"), me.code, "qr", is_new_user=True)
    balance(me, 60)  # ¥600 of goods at 10%: ¥60 available
    product = make_product(title="福建平和琯溪蜜柚 红心 2 个装 约 5 斤 产地直发", price_fen=3990)
    with live_server.app.app_context():
        stored = storage.save_image(png_bytes(size=(800, 800), color=(250, 190, 60)), f"products/{product.id}")
    db.session.add(ProductImage(product_id=product.id, key=stored.key, thumb_key=stored.key, position=0))
    db.session.commit()

    page = open_context().new_page()
    sign_in(page, "13655570001")
    page.goto("/me")
    expect(page.locator("#distributor-entry")).to_contain_text("¥60.00")
    snap(page, "distributor-me")

    page.goto("/distributor/")
    expect(page.locator("main")).to_contain_text(code)
    snap(page, "distributor-centre")

    page.goto(f"/distributor/share?product_id={product.id}")
    poster = page.get_by_role("img", name="分享海报")
    expect(poster).to_be_visible()
    # a function, not a bare expression: Playwright evals the latter in the page, which our CSP refuses
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    with open(SCREENSHOTS / "distributor-poster.png", "wb") as out:  # the poster itself, to look at
        out.write(page.request.get(f"/distributor/share/poster.png?product_id={product.id}").body())
    snap(page, "distributor-share")

    page.goto("/distributor/withdrawals")
    page.locator("#amount").fill("50")
    expect(page.locator("#fee-preview")).to_contain_text("手续费 ¥0.50，实际到账 ¥49.50")
    page.get_by_text("支付宝", exact=True).click()
    page.locator("#account_name").fill("张小红")
    page.locator("#account_no").fill("xiaohong@example.com")
    snap(page, "distributor-withdraw-form")
    page.get_by_role("button", name="下一步").click()
    expect(page.locator("main")).to_contain_text("实际到账")
    snap(page, "distributor-withdraw-confirm")
    page.get_by_role("button", name="确认提现").click()
    expect(page.locator("#withdrawal-list")).to_contain_text("审核中")
    snap(page, "distributor-withdrawals")

    page.goto("/distributor/team")
    expect(page.locator("#team-list")).to_contain_text("阿杰")
    snap(page, "distributor-team")
    page.goto("/distributor/commissions")
    snap(page, "distributor-commissions")


def test_application_page(open_context, set_rules, make_user, snap):  # noqa: F811
    set_rules(qualification="application")
    make_user(phone="13655570009", nickname="想当分销商")
    page = open_context().new_page()
    sign_in(page, "13655570009")
    page.goto("/distributor/")
    page.locator("#real_name").fill("王")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("main")).to_contain_text("请填写 2–20 个字的真实姓名")
    snap(page, "distributor-apply-errors")
    page.locator("#real_name").fill("王小明")
    page.locator("#phone").fill("13900001111")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("main")).to_contain_text("审核中")
    snap(page, "distributor-apply-pending")


def test_spend_threshold_and_closed_pages(open_context, set_rules, make_user, snap):  # noqa: F811
    set_rules(qualification="spend_threshold", spend_threshold="500")
    make_user(phone="13655570008", nickname="差一点")
    page = open_context().new_page()
    sign_in(page, "13655570008")
    page.goto("/distributor/")
    expect(page.locator("main")).to_contain_text("再消费 ¥500.00 即可成为分销商")
    snap(page, "distributor-threshold")
    set_rules(enabled=False)
    page.goto("/distributor/")
    expect(page.locator("main")).to_contain_text("分销功能暂未开放")
    snap(page, "distributor-closed")
