"""确认订单: checkout from the cart's selected lines or one SKU (立即购买), then off
to the chosen gateway.

The page carries an idempotency key made when it renders, so a double submit
(or a reload of the POST) finds the first payment instead of creating another.
A refusal (stock ran out, an item went off sale, a bad field) re-renders the page
with what the buyer chose, names the items concerned, and creates nothing.
"""
from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import segno
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import addresses, regions
from app.core.bounds import bounded_int, to_int
from app.core.db import transaction
from app.core.errors import Conflict, DomainError, NotFound, ValidationError
from app.core.urls import external_url
from app.inventory.services import OutOfStock
from app.orders import cart as cart_service
from app.orders import checkout
from app.orders import lines as order_lines
from app.orders.errors import OrderError
from app.payments import providers
from app.payments import services as payments
from app.web.forms import attach_errors
from app.web.redirects import safe_next
from app.web.shop.blueprint import bp
from app.web.shop.forms import AddressForm

MOBILE_UA = re.compile(r"Mobile|Android|iPhone|iPad|MicroMessenger", re.I)


def provider_labels() -> dict[str, str]:
    return {"wechatpay": _("微信支付"), "alipay": _("支付宝"), "sandbox": _("沙箱支付（模拟网关）")}


def provider_choices() -> list[tuple[str, str]]:
    labels = provider_labels()
    return [(name, labels[name]) for name in providers.available()]


def _is_mobile() -> bool:
    return bool(MOBILE_UA.search(request.headers.get("User-Agent", "")))


def _channel(provider: str) -> str | None:
    """Web pays by redirect: H5 / WAP on phones; on a desktop WeChat Pay shows a QR
    code (native) and Alipay its PC page. The sandbox has one page."""
    if provider == "wechatpay":
        return "h5" if _is_mobile() else "native"
    if provider == "alipay":
        return "wap" if _is_mobile() else "page"
    return None


def start_payment(out_trade_no: str, provider: str, failure_url: str):
    """Ask the gateway to collect `out_trade_no` and send the buyer where it says
    (a pay page, the H5 cashier, or our page with the Native QR code)."""
    try:
        with transaction():
            started = payments.start(current_user._get_current_object(), out_trade_no, provider, _channel(provider),
                                     client_ip=request.remote_addr,
                                     return_url=external_url("shop.payment_result", out_trade_no=out_trade_no))
    except Conflict as exc:
        if exc.code == "already_paid":
            return redirect(url_for("shop.payment_result", out_trade_no=out_trade_no))
        flash(exc.message, "danger")
        return redirect(failure_url)
    except DomainError as exc:
        flash(exc.message or _("支付发起失败，请稍后重试"), "danger")
        return redirect(failure_url)
    if started.get("pay_url"):
        return redirect(started["pay_url"])
    if started.get("h5_url"):
        return redirect(started["h5_url"])
    if started.get("code_url"):
        qr = segno.make(started["code_url"], error="m").svg_data_uri(scale=6, border=2)
        return render_template("shop/orders/wechat_qr.html", started=started, qr=qr,
                               payment=payments.for_buyer(current_user.id, started["out_trade_no"]))
    flash(_("支付发起失败，请稍后重试"), "danger")
    return redirect(failure_url)


# --- what is being bought ---------------------------------------------------------------


class NothingToBuy(Exception):
    pass


def _items(source) -> tuple[list[tuple[int, int]], bool, dict]:
    """(items, from_cart, the args that say so again) from the query or the form."""
    sku_id = (source.get("sku_id") or "").strip()
    if sku_id:
        try:
            item = (bounded_int(sku_id, 1), order_lines.clean_quantity(source.get("quantity") or "1"))
        except ValueError:
            raise NothingToBuy(_("请选择规格")) from None
        except DomainError as exc:
            raise NothingToBuy(exc.message) from None
        return [item], False, {"sku_id": item[0], "quantity": item[1]}
    view = cart_service.view(current_user.id)
    items = [(line.sku.id, line.quantity) for group in view.groups for line in group.selected_lines]
    return items, True, {}


def _page(items, from_cart: bool, buy_args: dict, *, key: str | None = None, address_id=None,
          provider: str | None = None, notes: dict | None = None, errors: dict | None = None,
          item_problems: dict | None = None, message: str | None = None, status: int = 200):
    q = checkout.quote(items)
    own = addresses.list_for(current_user.id)
    chosen = None
    try:
        wanted = int(address_id) if address_id not in (None, "") else None
    except (TypeError, ValueError):
        wanted = None
    if wanted is not None:
        chosen = next((a for a in own if a.id == wanted), None)
    chosen = chosen or (own[0] if own else None)  # list_for puts the default first
    choices = provider_choices()
    names = [name for name, _label in choices]
    return render_template(
        "shop/checkout/checkout.html", quote=q, addresses=own, address=chosen, providers=choices,
        provider=provider if provider in names else (names[0] if names else None),
        key=key or uuid.uuid4().hex, notes=notes or {}, errors=errors or {}, item_problems=item_problems or {},
        message=message, from_cart=from_cart, buy_args=buy_args, here=url_for("shop.checkout", **buy_args),
    ), status


def _named(items, sku_ids) -> str:
    """"商品 规格" of the given SKUs, for a message naming what fell short."""
    infos = order_lines.load_skus(sku_ids)
    names = []
    for sku_id in sku_ids:
        info = infos.get(int(sku_id))
        if info:
            spec = info.sku.spec_text
            names.append(f"{info.sku.product.title}（{spec}）" if spec else info.sku.product.title)
    return "、".join(names)


@bp.get("/checkout", endpoint="checkout")
@login_required
def checkout_page():
    try:
        items, from_cart, buy_args = _items(request.args)
    except NothingToBuy as exc:
        flash(str(exc), "danger")
        return redirect(url_for("shop.cart"))
    if not items:
        flash(_("请先在购物车中选择要结算的商品"), "warning")
        return redirect(url_for("shop.cart"))
    try:
        return _page(items, from_cart, buy_args, address_id=request.args.get("address_id"))
    except Conflict as exc:
        flash(exc.message, "danger")
        return redirect(url_for("shop.cart"))


@bp.post("/checkout")
@login_required
def checkout_submit():
    form = request.form
    try:
        items, from_cart, buy_args = _items(form)
    except NothingToBuy as exc:
        flash(str(exc), "danger")
        return redirect(url_for("shop.cart"))
    key = (form.get("key") or "").strip()
    provider = form.get("provider") or ""
    notes = {name.removeprefix("note_"): value for name, value in form.items() if name.startswith("note_")}
    state = {"key": key, "address_id": form.get("address_id"), "provider": provider, "notes": notes}

    def again(status: int, **extra):
        if not items:
            flash(extra.get("message") or _("请先在购物车中选择要结算的商品"), "warning")
            return redirect(url_for("shop.cart"))
        try:
            return _page(items, from_cart, buy_args, status=status, **state, **extra)
        except Conflict as exc:
            flash(exc.message, "danger")
            return redirect(url_for("shop.cart"))

    if provider not in providers.available():
        return again(422, errors={"provider": _("请选择支付方式")})
    shown = to_int(form.get("amount_fen"), 0)  # the total the page showed; checkout refuses another
    try:
        with transaction():
            payment = checkout.submit(current_user._get_current_object(), items, form.get("address_id"), notes, key,
                                      from_cart=from_cart, expected_total_fen=shown)
    except OutOfStock as exc:
        short = [s.sku_id for s in exc.shortfalls]
        problems = {s.sku_id: _("库存不足：仅剩 %(n)d 件", n=s.available) for s in exc.shortfalls}
        return again(409, item_problems=problems,
                     message=_("以下商品库存不足：%(names)s，请修改数量后再提交", names=_named(items, short)))
    except Conflict as exc:
        if exc.code != OrderError.PRODUCT_UNAVAILABLE:
            return again(409, message=exc.message)
        bad = [int(k) for k in (exc.fields or {}) if str(k).isdigit()]
        problems = {sku_id: exc.fields[str(sku_id)] for sku_id in bad}
        return again(409, item_problems=problems,
                     message=_("以下商品已下架或店铺暂停营业：%(names)s，请返回修改", names=_named(items, bad)))
    except NotFound:
        # Someone else's (or a deleted) address: refused like a missing one.
        return again(422, errors={"address_id": _("请选择收货地址")})
    except ValidationError as exc:
        fields = dict(exc.fields or {})
        return again(422, errors=fields, message=exc.message if not fields or not items else None)
    failure = url_for("shop.order_detail", order_no=payment.orders[0].order_no) if payment.orders \
        else url_for("shop.orders")
    return start_payment(payment.out_trade_no, provider, failure)


# --- adding an address without leaving checkout --------------------------------------


def _back_to_checkout() -> str:
    """The checkout page `next` names (with its query: what is being bought), else checkout."""
    back = safe_next("")
    return back if urlsplit(back).path == url_for("shop.checkout") else url_for("shop.checkout")


@bp.route("/checkout/address/new", methods=["GET", "POST"])
@login_required
def checkout_address_new():
    """新增收货地址 from checkout: the usual address form, and back to checkout with it chosen."""
    back = _back_to_checkout()
    form = AddressForm(prefix="")
    if request.method == "GET" and not addresses.list_for(current_user.id):
        form.is_default.data = True
    if form.validate_on_submit():
        try:
            with transaction():
                address = addresses.add(current_user.id, form.data)
            flash(_("地址已保存"), "success")
            joiner = "&" if "?" in back else "?"
            return redirect(f"{back}{joiner}address_id={address.id}")
        except DomainError as exc:
            if not attach_errors(form, exc):
                flash(exc.message, "danger")
    return render_template("shop/checkout/address_new.html", form=form, address=None, back=back,
                           provinces=regions.provinces(),
                           cities=regions.children(form.province_code.data or ""),
                           districts=regions.children(form.city_code.data or ""))
