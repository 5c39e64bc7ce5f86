"""After-sales in the merchant console (售后): the queue with its tabs, counts and
search (the table is swapped over HTMX), a request's detail (lines, reason, evidence,
the order, the buyer's history with the shop, the return shipment, the timeline), the
shop's answers (approve with a return address, refund, reject, confirm the returned
parcel, ship the exchange's replacement), and while the platform steps in the shop's
statement and the dispute thread.

Every request is loaded scoped to the current shop (`services.for_merchant`), so
another shop's number is a 404 on every URL here and acting on it changes nothing.
The buttons are `services.actions_for(request, policies.staff(g.member))`; each
answer is one service call in a transaction, an HTMX form that re-renders the action
panel and the timeline (or a plain post that redirects back)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.aftersales import disputes, labels, policies, queries, services
from app.aftersales.models import AfterSale
from app.aftersales.states import MAX_IMAGES, MESSAGE_MAX, STATEMENT_MAX, AfterSaleKind, AfterSaleStatus, Side
from app.core import storage
from app.core.bounds import to_int
from app.core.clock import utcnow
from app.core.db import transaction
from app.core.errors import DomainError, ValidationError
from app.core.htmx import is_htmx, with_toast
from app.core.labels import Tone
from app.core.money import format_yuan
from app.core.pagination import paginate
from app.merchants import shops
from app.orders import carriers
from app.web.list_filters import pick_tab
from app.web.merchant.blueprint import bp
from app.web.merchant.context import is_owner, merchant_required
from app.web.merchant.views_orders import image_url

S = AfterSaleStatus
Q_MAX = 40
TAB_LABELS = {
    "pending": _l("待处理"), "returned": _l("待确认收货"), "awaiting_return": _l("待买家退货"),
    "in_progress": _l("处理中"), "disputed": _l("平台介入"), "done": _l("已完成"), "ended": _l("已关闭"),
    "all": _l("全部"),
}
EMPTY_TEXTS = {
    "pending": _l("没有待处理的售后申请。买家申请售后后会出现在这里。"),
    "returned": _l("没有待确认收货的退货。"),
    "awaiting_return": _l("没有等待买家寄回的售后。"),
    "in_progress": _l("没有退款中或换货中的售后。"),
    "disputed": _l("没有平台介入中的售后。"),
}
# Statuses whose `due_at` is the shop's own deadline; in the others it is the buyer's.
SHOP_DUE = frozenset({S.PENDING, S.RETURNED})
# What the shop reads above its buttons, by status (the deadline is added where there is one).
HINTS = {
    S.PENDING: _l("请尽快处理买家的申请，逾期未处理系统将自动同意。"),
    S.AWAITING_RETURN: _l("已同意，等待买家寄回商品；买家逾期未寄回，售后自动关闭。"),
    S.RETURNED: _l("买家已寄回商品，收到后请确认收货；逾期未处理系统将自动退款。"),
    S.EXCHANGE_SHIPPED: _l("换货已发出，等待买家确认收货。"),
    S.REFUNDING: _l("退款处理中，款项将原路退回买家。"),
    S.REFUNDED: _l("已退款，售后完成。"),
    S.COMPLETED: _l("换货已完成。"),
    S.REJECTED: _l("已拒绝。买家可以修改后重新申请，或申请平台介入。"),
    S.DISPUTED: _l("买家已申请平台介入，请提交商家说明和凭证，平台将作出裁定。"),
    S.CLOSED: _l("售后已关闭。"),
    S.CANCELLED: _l("买家已撤销申请。"),
}
RECEIVED_EXCHANGE_HINT = _l("已确认收到退货，请发出换货商品；逾期未发出系统将自动退款。")
LOOK = {Tone.GOOD: "approved", Tone.BAD: "rejected", Tone.REVIEW: "submitted"}
SIDES = {Side.BUYER: _l("买家"), Side.MERCHANT: _l("本店"), Side.PLATFORM: _l("平台")}


# --- helpers the templates use ------------------------------------------------------------------

def deadline(aftersale: AfterSale) -> dict | None:
    """The deadline as the queue shows it: 剩 2 天 5 小时, orange under 24 hours, red once it
    has passed (the shop's own deadlines), grey when it is the buyer who is waited for."""
    if aftersale.due_at is None:
        return None
    seconds = (aftersale.due_at - utcnow()).total_seconds()
    shop = waits_for_shop(aftersale)
    if seconds <= 0:
        text, css = _("已逾期"), "text-danger"
    elif seconds < 24 * 3600:
        text, css = _("剩 %(n)d 小时", n=max(1, int(seconds // 3600))), "text-warning-emphasis fw-medium"
    else:
        days, hours = int(seconds // (24 * 3600)), int(seconds % (24 * 3600) // 3600)
        text = _("剩 %(d)d 天 %(h)d 小时", d=days, h=hours) if hours else _("剩 %(d)d 天", d=days)
        css = "text-body"
    if not shop:
        css = "text-secondary"
    return {"text": text, "css": css, "who": _("待你处理") if shop else _("等待买家"), "at": aftersale.due_at}


def waits_for_shop(aftersale: AfterSale) -> bool:
    """The request waits for the shop's answer (the queue's 处理 button)."""
    return aftersale.status in SHOP_DUE


def hint(aftersale: AfterSale) -> str:
    if aftersale.status == S.RETURNED and aftersale.return_received_at is not None:
        return str(RECEIVED_EXCHANGE_HINT)
    return str(HINTS.get(aftersale.status, ""))


def refund_button(aftersale: AfterSale) -> dict:
    """The refund button's words and its confirm dialog: 同意退款 answers a refund-only
    request; 直接退款 gives the money back without waiting for the goods."""
    amount = format_yuan(aftersale.refund_fen)
    if aftersale.kind == AfterSaleKind.REFUND_ONLY and aftersale.status == S.PENDING:
        return {"label": _("同意退款"),
                "confirm": _("同意退款 %(a)s？款项将原路退回买家，无法撤销。", a=amount)}
    return {"label": _("直接退款"),
            "confirm": _("不等退货，直接退款 %(a)s 给买家？款项将原路退回，无法撤销。", a=amount)}


def receive_confirm(aftersale: AfterSale) -> str | None:
    """Receiving a return refunds it at once, so the form asks first; an exchange waits."""
    if aftersale.kind == AfterSaleKind.EXCHANGE:
        return None
    return _("确认已收到退货？确认后将立即退款 %(a)s 给买家。", a=format_yuan(aftersale.refund_fen))


def image_src(aftersale: AfterSale, key: str | None) -> str:
    return url_for("merchant.aftersale_image", aftersale_no=aftersale.aftersale_no, name=(key or "").rsplit("/", 1)[-1])


def _helpers() -> dict:
    return {"deadline": deadline, "hint": hint, "waits_for_shop": waits_for_shop, "refund_button": refund_button, "receive_confirm": receive_confirm,
            "order_image_url": image_url, "image_src": image_src, "carrier_name": carriers.name_for,
            "reason_text": labels.reason_text, "timeline_look": lambda s: LOOK.get(labels.AFTERSALE.tone(s), ""),
            "may_manage_addresses": is_owner()}


def _counts() -> dict[str, int]:
    """The queue's tab counts, read once per request (the sidebar badge shares them)."""
    if "aftersale_counts" not in g:
        g.aftersale_counts = queries.tab_counts(merchant_id=g.merchant.id)
    return g.aftersale_counts


@bp.app_context_processor
def aftersales_sidebar():
    def merchant_aftersale_count() -> int:
        return _counts()["pending"] if g.get("merchant") is not None else 0

    return {"merchant_aftersale_count": merchant_aftersale_count}


# --- the queue ----------------------------------------------------------------------------------

@bp.get("/aftersales")
@merchant_required()
def aftersales_list():
    tab = pick_tab(request.args, "tab", queries.MERCHANT_TABS, queries.MERCHANT_TABS[0])
    q = (request.args.get("q") or "").strip()[:Q_MAX]
    stmt = queries.of_merchant(g.merchant.id, tab, q=q or None).options(selectinload(AfterSale.buyer))
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 20))
    args = {k: v for k, v in {"tab": tab, "q": q}.items() if v}
    context = {"page": page, "tab": tab, "q": q, "args": args, "counts": _counts(),
               "tabs": [(name, TAB_LABELS[name]) for name in queries.MERCHANT_TABS],
               "empty_text": EMPTY_TEXTS.get(tab, _("这里还没有售后申请。")), **_helpers()}
    if is_htmx() and request.headers.get("HX-Target") == "aftersales-table":
        return render_template("merchant/aftersales/_table.html", **context)
    return render_template("merchant/aftersales/index.html", **context)


# --- the detail ---------------------------------------------------------------------------------

def _aftersale(aftersale_no: str) -> AfterSale:
    return services.for_merchant(g.merchant.id, aftersale_no)  # NotFound (404) for any other shop's request


def _actor() -> policies.Actor:
    return policies.staff(g.member)


def _detail_context(aftersale: AfterSale, failed: str | None = None, values: dict | None = None,
                    errors: dict | None = None) -> dict:
    """Everything the detail page draws; `failed` names the form whose input was refused
    (shown open with `values` and `errors`)."""
    total, history = queries.buyer_history(aftersale.buyer_id, aftersale.merchant_id)
    members = {m.user_id for m in shops.staff_of(aftersale.merchant_id)}

    def actor_label(event) -> str:
        """Who made a step: the buyer, the shop, the platform, or the system (no one)."""
        if event.actor_id is None:
            return _("系统")
        if event.actor_id == aftersale.buyer_id:
            return _("买家")
        return _("商家") if event.actor_id in members else _("平台")

    return {"actor_label": actor_label, "side_label": lambda side: str(SIDES.get(side, side)),
            "a": aftersale, "acts": services.actions_for(aftersale, _actor()), "events": services.timeline(aftersale.id),
            "addresses": services.return_addresses(g.merchant.id), "history": history, "history_total": total,
            "carrier_choices": carriers.choices(), "failed": failed, "values": values or {}, "errors": errors or {},
            "max_images": MAX_IMAGES, "statement_max": STATEMENT_MAX, "message_max": MESSAGE_MAX, **_helpers()}


@bp.get("/aftersales/<aftersale_no>")
@merchant_required()
def aftersale_detail(aftersale_no: str):
    return render_template("merchant/aftersales/detail.html", **_detail_context(_aftersale(aftersale_no)))


def _answer(aftersale_no: str, act: str, run, message: str, values: dict | None = None,
            partial: str = "merchant/aftersales/_live.html"):
    """Run the shop's answer `run(actor, aftersale_no)` in a transaction, then re-render
    `partial` (HTMX, with a toast) or go back to the page. A refusal changes nothing and
    shows why beside the form it came from."""
    aftersale = _aftersale(aftersale_no)
    try:
        with transaction():
            run(_actor(), aftersale.aftersale_no)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        errors = dict(exc.fields or {}) or {"_": exc.message}
        context = _detail_context(_aftersale(aftersale_no), failed=act, values=values, errors=errors)
        if is_htmx():
            return with_toast(render_template(partial, **context), exc.message, "danger")
        return render_template("merchant/aftersales/detail.html", **context), 422
    if is_htmx():
        return with_toast(render_template(partial, **_detail_context(_aftersale(aftersale_no))), message)
    flash(message, "success")
    return redirect(url_for("merchant.aftersale_detail", aftersale_no=aftersale.aftersale_no))


@bp.post("/aftersales/<aftersale_no>/approve")
@merchant_required()
def aftersale_approve(aftersale_no: str):
    address_id = to_int(request.form.get("return_address_id"), 1)
    return _answer(aftersale_no, policies.Act.APPROVE,
                   lambda actor, no: services.approve(actor, no, return_address_id=address_id),
                   _("已同意，买家将按所选地址寄回商品"), {"return_address_id": address_id})


@bp.post("/aftersales/<aftersale_no>/refund")
@merchant_required()
def aftersale_refund(aftersale_no: str):
    return _answer(aftersale_no, policies.Act.REFUND, services.refund, _("已同意退款，款项将原路退回买家"))


@bp.post("/aftersales/<aftersale_no>/reject")
@merchant_required()
def aftersale_reject(aftersale_no: str):
    reason = (request.form.get("reason") or "").strip()[:300]
    return _answer(aftersale_no, policies.Act.REJECT, lambda actor, no: services.reject(actor, no, reason),
                   _("已拒绝该售后申请"), {"reason": reason})


@bp.post("/aftersales/<aftersale_no>/receive")
@merchant_required()
def aftersale_receive(aftersale_no: str):
    choice = request.form.get("restock")

    def run(actor, no):
        if choice not in ("1", "0"):
            message = _("请选择退回的商品是否入库")
            raise ValidationError(message, fields={"restock": message})
        return services.receive(actor, no, restock=choice == "1")

    return _answer(aftersale_no, policies.Act.RECEIVE, run, _("已确认收到退货"), {"restock": choice})


@bp.post("/aftersales/<aftersale_no>/ship-replacement")
@merchant_required()
def aftersale_ship_replacement(aftersale_no: str):
    values = {"carrier": (request.form.get("carrier") or "").strip()[:32],
              "tracking_no": (request.form.get("tracking_no") or "").strip()[:40]}
    return _answer(aftersale_no, policies.Act.SHIP_REPLACEMENT,
                   lambda actor, no: services.ship_replacement(actor, no, values["carrier"], values["tracking_no"]),
                   _("换货已发出，买家将收到通知"), values)


def _images() -> list[bytes]:
    """The uploaded photos (one more than allowed at most, so the service can say so)."""
    files = [f for f in request.files.getlist("images") if f and f.filename][:MAX_IMAGES + 1]
    return [f.read() for f in files]


@bp.post("/aftersales/<aftersale_no>/statement")
@merchant_required()
def aftersale_statement(aftersale_no: str):
    statement = (request.form.get("statement") or "").strip()[:STATEMENT_MAX + 100]
    images = _images()
    return _answer(aftersale_no, policies.Act.STATE,
                   lambda actor, no: disputes.state(actor, no, statement, images),
                   _("商家说明已提交，平台会一并参考"), {"statement": statement},
                   partial="merchant/aftersales/_dispute.html")


@bp.post("/aftersales/<aftersale_no>/messages")
@merchant_required()
def aftersale_message(aftersale_no: str):
    body = (request.form.get("body") or "").strip()[:MESSAGE_MAX + 100]
    images = _images()

    def run(actor, no):
        # The shop writes in the thread while it may state its side (disputed, not yet ruled).
        aftersale = services.require(services.for_merchant(actor.merchant_id, no), actor, policies.Act.STATE)
        return disputes.post(aftersale, actor.user_id, Side.MERCHANT, body, images)

    return _answer(aftersale_no, policies.Act.MESSAGE, run, _("留言已发送"), {"body": body},
                   partial="merchant/aftersales/_dispute.html")


@bp.get("/aftersales/<aftersale_no>/images/<name>")
@merchant_required()
def aftersale_image(aftersale_no: str, name: str):
    key = queries.image_key(_aftersale(aftersale_no), name)
    if key is None:
        abort(404)
    path, content_type = storage.open_stored(key)
    return send_file(path, mimetype=content_type, max_age=3600)
