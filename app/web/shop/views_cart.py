"""购物车: add from the product page, the cart grouped by shop with steppers and
selection, and the tab-bar badge.

Every change answers an HTMX request with the whole cart partial (so totals,
shop checkboxes and warnings are redrawn from one source) plus the badges out of
band; a plain form post redirects back to the cart. A refused change keeps the
cart as it was and says why in a toast (HTMX) or a flash (plain post).
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.catalog.models import Sku
from app.core.bounds import to_int
from app.core.db import transaction
from app.core.errors import DomainError, NotFound
from app.core.htmx import is_htmx, redirect_htmx, with_toast
from app.extensions import db
from app.orders import cart as cart_service
from app.orders import lines as order_lines
from app.web.redirects import safe_referrer
from app.web.shop.blueprint import bp


def _cart_page(status: int = 200):
    view = cart_service.view(current_user.id)
    template = "shop/cart/_cart_response.html" if is_htmx() else "shop/cart.html"
    return make_response(render_template(template, cart=view, cart_lines=len(view.lines)), status)


def _back_to_product() -> str:
    path = urlsplit(safe_referrer("")).path
    return path if path.startswith("/products/") else url_for("shop.cart")


@bp.get("/cart")
def cart():
    # The 购物车 tab is in every tab bar: a signed-out visitor gets a prompt to sign in, not a bounce.
    if not current_user.is_authenticated:
        return render_template("shop/cart.html", cart=None, cart_lines=0)
    return _cart_page()


@bp.get("/cart/badge")
def cart_badge():
    count = cart_service.count_lines(current_user.id) if current_user.is_authenticated else 0
    return render_template("shop/cart/_badges.html", cart_lines=count, oob=False, badge_id=request.args.get("id"))


# 加入购物车 while signed out: the choice waits in the session for the sign-in.
PENDING_KEY = "pending_cart"
PENDING_SECONDS = 30 * 60


def _ask_to_sign_in(buy_now: bool):
    """Send a signed-out shopper to sign in without losing what they chose. 立即购买
    continues to checkout with the SKU and quantity; 加入购物车 remembers the line,
    which `add_pending_line` puts in the cart when they sign in, and brings them back
    to the product with the same SKU and quantity chosen. A choice that makes no sense
    (no SKU, a bad number) is not remembered: they come back to the product to choose."""
    back = _back_to_product()
    try:
        sku_id = to_int(request.form.get("sku_id"), minimum=1)
        quantity = order_lines.clean_quantity(request.form.get("quantity", "1"))
        sku = db.session.get(Sku, sku_id) if sku_id else None
    except DomainError:
        sku = None
    if sku is None:
        flash(_("请先登录"), "warning")
        target = url_for("shop.login", next=back)
    elif buy_now:
        flash(_("请先登录，登录后继续购买"), "warning")
        target = url_for("shop.login", next=url_for("shop.checkout", sku_id=sku.id, quantity=quantity))
    else:
        session[PENDING_KEY] = {"sku_id": sku.id, "quantity": quantity, "at": int(time.time())}
        flash(_("请先登录，登录后商品会自动加入购物车"), "warning")
        target = url_for("shop.login", next=url_for("shop.product_page", product_id=sku.product_id,
                                                     sku=sku.id, qty=quantity))
    return redirect_htmx(target) if is_htmx() else redirect(target)


def take_pending_line() -> dict | None:
    """The line a signed-out shopper chose, taken out of the session (so it is added once)."""
    pending = session.pop(PENDING_KEY, None)
    if not isinstance(pending, dict) or time.time() - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return pending


def add_pending_line(user_id: int, pending: dict | None) -> None:
    """Put the remembered line in the cart of the shopper who just signed in, and say
    what happened (a line that can no longer be bought is named, not added)."""
    if not pending:
        return
    try:
        with transaction():
            cart_service.add(user_id, pending.get("sku_id"), pending.get("quantity"))
    except DomainError as exc:
        flash(exc.message, "warning")
    else:
        flash(_("已加入购物车（%(n)d 件）", n=int(pending.get("quantity", 1))), "success")


@bp.post("/cart/add")
def cart_add():
    """加入购物车 / 立即购买 from the product page. Anonymous shoppers are sent to
    sign in and come back to what they chose (see `_ask_to_sign_in`)."""
    buy_now = request.form.get("buy_now") == "1"
    if not current_user.is_authenticated:
        return _ask_to_sign_in(buy_now)
    sku_id, quantity = request.form.get("sku_id"), request.form.get("quantity", "1")
    if buy_now:
        # 立即购买 skips the cart: checkout prices just this SKU and names any problem with it.
        try:
            sku_id = int(sku_id)
            quantity = order_lines.clean_quantity(quantity)
        except (TypeError, ValueError):
            return _refuse(_("请选择规格"))
        except DomainError as exc:
            return _refuse(exc.message)
        target = url_for("shop.checkout", sku_id=sku_id, quantity=quantity)
        return redirect_htmx(target) if is_htmx() else redirect(target)
    try:
        with transaction():
            cart_service.add(current_user.id, sku_id, quantity)
    except DomainError as exc:
        return _refuse(exc.message)
    count = cart_service.count_lines(current_user.id)
    if is_htmx():
        response = make_response(render_template("shop/cart/_badges.html", cart_lines=count, oob=True))
        return with_toast(response, _("已加入购物车"))
    flash(_("已加入购物车"), "success")
    return redirect(_back_to_product())


def _refuse(message: str):
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Reswap"] = "none"
        return with_toast(response, message, "danger")
    flash(message, "danger")
    return redirect(_back_to_product())


def _change(action, done_message: str | None = None):
    """Run one cart change; answer with the redrawn cart (HTMX) or go back to it."""
    try:
        with transaction():
            action()
    except NotFound:
        raise
    except DomainError as exc:
        if is_htmx():
            return with_toast(_cart_page(), exc.message, "danger")
        flash(exc.message, "danger")
        return redirect(url_for("shop.cart"))
    if is_htmx():
        response = _cart_page()
        return with_toast(response, done_message) if done_message else response
    if done_message:
        flash(done_message, "success")
    return redirect(url_for("shop.cart"))


def _flag(name: str) -> bool:
    return request.form.get(name) in ("1", "true", "on")


@bp.post("/cart/items/<int:item_id>/quantity")
@login_required
def cart_quantity(item_id: int):
    quantity = request.form.get("quantity")
    step = request.form.get("step")  # the stepper's − / + buttons send the shown quantity and a step
    if step in ("-1", "1"):
        try:
            quantity = int(quantity) + int(step)
        except (TypeError, ValueError):
            pass  # the service names the bad quantity
    return _change(lambda: cart_service.set_quantity(current_user.id, item_id, quantity))


@bp.post("/cart/items/<int:item_id>/select")
@login_required
def cart_select(item_id: int):
    return _change(lambda: cart_service.set_selected(current_user.id, _flag("selected"), item_id=item_id))


@bp.post("/cart/shops/<int:merchant_id>/select")
@login_required
def cart_select_shop(merchant_id: int):
    return _change(lambda: cart_service.set_selected(current_user.id, _flag("selected"), merchant_id=merchant_id))


@bp.post("/cart/select-all")
@login_required
def cart_select_all():
    return _change(lambda: cart_service.set_selected(current_user.id, _flag("selected")))


@bp.post("/cart/items/<int:item_id>/remove")
@login_required
def cart_remove(item_id: int):
    def remove():
        if not cart_service.remove(current_user.id, [item_id]):
            raise NotFound(_("购物车中没有该商品"), code="cart_item_not_found")

    return _change(remove, _("已删除"))
