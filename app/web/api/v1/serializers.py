"""Turning accounts into API payloads."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.states import AdminRole
from app.aftersales.models import AfterSale
from app.core.urls import external_url
from app.extensions import db
from app.orders import carriers, policies


def user_roles(user: User) -> list[str]:
    roles = ["shopper"]
    if user.admin_role != AdminRole.NONE:
        roles.append(f"admin:{user.admin_role}")
    return roles


def user_payload(user: User) -> dict:
    avatar_url = None
    if user.avatar_key:
        avatar_url = external_url("shop.avatar", name=user.avatar_key.split("/", 1)[1])
    return {
        "id": user.id,
        "nickname": user.display_name,
        "phone": user.local_phone,
        "email": user.email,
        "avatar_url": avatar_url,
        "roles": user_roles(user),
        "accepts_marketing": not user.marketing_opt_out,
    }


# --- orders, cart and payments (mini-program and merchant ERP) ---------------------------

def product_image_url(key: str | None) -> str | None:
    """An absolute URL for a stored product image key (`products/<id>/<name>`)."""
    if not key or key.count("/") < 2:
        return None
    _folder, product_id, name = key.split("/", 2)
    try:
        return external_url("shop.product_image", product_id=int(product_id), name=name)
    except ValueError:
        return None


def local_phone(phone: str | None) -> str | None:
    return phone[3:] if phone and phone.startswith("+86") else phone


def cart_line_payload(line) -> dict:
    """One cart line as priced now, with why it cannot be bought if it cannot."""
    image = line.product.main_image
    return {
        "id": line.cart_item_id, "sku_id": line.sku.id, "product_id": line.product.id,
        "title": line.product.title, "spec_text": line.sku.spec_text,
        "image_url": product_image_url(image.thumb_key) if image else None,
        "unit_price_fen": line.unit_price_fen, "quantity": line.quantity, "subtotal_fen": line.subtotal_fen,
        "stock": line.sku.stock, "selected": line.selected,
        "problem": line.problem, "problem_text": line.problem_text or None,
    }


def cart_payload(view) -> dict:
    return {
        "shops": [{"merchant": {"id": g.merchant.id, "name": g.merchant.name},
                   "items": [cart_line_payload(line) for line in g.lines],
                   "items_fen": g.items_fen, "all_selected": g.all_selected} for g in view.groups],
        "selected_count": view.selected_count, "items_fen": view.items_fen, "all_selected": view.all_selected,
        "problem_count": len(view.problems),
    }


def open_aftersale_nos(orders) -> dict[int, str]:
    """after-sale id -> number of the requests holding items of `orders` now, in one query
    (none when no item is held), so a page of orders names them without a query per order."""
    ids = {item.open_aftersale_id for order in orders for item in order.items if item.open_aftersale_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(AfterSale.id, AfterSale.aftersale_no).where(AfterSale.id.in_(ids))).all())


def order_item_payload(item, aftersale_nos: dict[int, str]) -> dict:
    return {
        "id": item.id, "product_id": item.product_id, "sku_id": item.sku_id, "title": item.title,
        "spec_text": item.spec_text, "image_url": product_image_url(item.image_key),
        "unit_price_fen": item.unit_price_fen, "quantity": item.quantity, "paid_fen": item.paid_fen,
        "refunded_quantity": item.refunded_quantity, "reviewed": item.reviewed,
        "aftersale_no": aftersale_nos.get(item.open_aftersale_id) if item.open_aftersale_id else None,
    }


def shipment_payload(shipment) -> dict | None:
    if shipment is None:
        return None
    return {"carrier": shipment.carrier_code, "carrier_name": carriers.name_for(shipment.carrier_code),
            "tracking_no": shipment.tracking_no, "shipped_at": shipment.shipped_at, "delivered": shipment.delivered}


def address_payload(snapshot: dict | None) -> dict:
    snapshot = dict(snapshot or {})
    snapshot["phone"] = local_phone(snapshot.get("phone"))
    return snapshot


def order_payload(order, out_trade_no: str | None = None, *, actor: policies.Actor,
                  aftersale_nos: dict[int, str] | None = None) -> dict:
    """An order as a list row: what a tab of 我的订单 or the ERP's order list shows, with
    `actions`: what `actor` (the buyer, or the shop behind an API key) may do to it now.
    `aftersale_nos`: `open_aftersale_nos` of the page the order is on (looked up for this
    order alone when not given)."""
    if aftersale_nos is None:
        aftersale_nos = open_aftersale_nos([order])
    return {
        "order_no": order.order_no, "status": order.status, "merchant_id": order.merchant_id,
        "actions": list(policies.actions_for(order, actor)),
        "merchant": {"id": order.merchant.id, "name": order.merchant.name},
        "out_trade_no": out_trade_no,
        "items": [order_item_payload(item, aftersale_nos) for item in order.items],
        "items_fen": order.items_fen, "shipping_fen": order.shipping_fen, "amount_fen": order.amount_fen,
        "note": order.note, "to_review": order.to_review, "created_at": order.created_at,
        "pay_expires_at": order.pay_expires_at, "paid_at": order.paid_at, "shipped_at": order.shipped_at,
        "received_at": order.received_at, "completed_at": order.completed_at, "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason, "shipment": shipment_payload(order.shipment),
    }


def order_detail_payload(order, timeline, *, actor: policies.Actor) -> dict:
    data = order_payload(order, order.payment.out_trade_no if order.payment else None, actor=actor)
    data["payment_status"] = order.payment.status if order.payment else None
    data["address"] = address_payload(order.address)
    data["timeline"] = [{"from_status": e.from_status, "to_status": e.to_status, "note": e.note,
                         "created_at": e.created_at} for e in timeline]
    return data


def page_payload(page, items: list) -> dict:
    """A `PageSchema` body: the page's items, already serialised, and where the page stands."""
    return {"items": items, "page": page.page, "per_page": page.per_page, "total": page.total}
