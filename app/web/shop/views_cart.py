"""购物车: add from the product page, the cart grouped by shop with steppers and
selection, and the tab-bar badge.

Every change answers an HTMX request with the whole cart partial (so totals,
shop checkboxes and warnings are redrawn from one source) plus the badges out of
band; a plain form post redirects back to the cart. A refused change keeps the
cart as it was and says why in a toast (HTMX) or a flash (plain post).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.db import transaction
from app.core.errors import DomainError, NotFound
from app.core.htmx import is_htmx, redirect_htmx, with_toast
from app.orders import cart as cart_service
from app.web.redirects import safe_referrer
from app.web.shop import bp


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


@bp.post("/cart/add")
def cart_add():
    """加入购物车 / 立即购买 from the product page. Anonymous shoppers are sent to
    sign in and come back to the product."""
    buy_now = request.form.get("buy_now") == "1"
    if not current_user.is_authenticated:
        target = url_for("shop.login", next=_back_to_product())
        return redirect_htmx(target) if is_htmx() else redirect(target)
    sku_id, quantity = request.form.get("sku_id"), request.form.get("quantity", "1")
    if buy_now:
        # 立即购买 skips the cart: checkout prices just this SKU and names any problem with it.
        from app.orders import lines as order_lines

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
