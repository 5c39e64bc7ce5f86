"""秒杀 in the shop: the 立即秒杀 button's post (the same service as the API), then off
to the order's payment page. The product page and the home page show the events
(views_catalog, views_home, shop/flash/_*.html)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import addresses
from app.core.db import transaction
from app.core.errors import DomainError
from app.extensions import db
from app.flashsales import buying
from app.flashsales.models import FlashSaleItem
from app.web.shop.blueprint import bp


@bp.post("/flash-sales/<int:item_id>/buy")
@login_required
def flash_buy(item_id: int):
    """立即秒杀: one unit (or the quantity posted) with the buyer's default address."""
    back = _product_url(item_id)
    own = addresses.list_for(current_user.id)  # the default first
    if not own:
        flash(_("请先添加收货地址，再来秒杀"), "warning")
        return redirect(url_for("shop.address_new"))
    try:
        with transaction():
            payment = buying.buy(current_user._get_current_object(), item_id, request.form.get("quantity") or 1,
                                 own[0].id, request.form.get("key") or "")
            order_no = payment.orders[0].order_no
    except DomainError as exc:
        flash(exc.message, "warning" if exc.status in (409, 422) else "danger")
        return redirect(back)
    flash(_("抢到了！请在规定时间内完成付款"), "success")
    return redirect(url_for("shop.order_pay", order_no=order_no))


def _product_url(item_id: int) -> str:
    product_id = db.session.query(FlashSaleItem.product_id).filter(FlashSaleItem.id == item_id).scalar()
    return url_for("shop.product_page", product_id=product_id) if product_id else url_for("shop.home")
