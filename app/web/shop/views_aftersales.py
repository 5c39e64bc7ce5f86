"""我的 → 售后: asking for after-sales on an order item (仅退款 / 退货退款 / 换货), the
取消订单并退款 of a paid, unshipped order, the buyer's list of requests by tab, and a
request's page with what happens next, the return address, the return shipment form,
withdrawing, reapplying, 平台介入 with its thread, and the timeline.

Every request and order is loaded scoped to the signed-in buyer (someone else's is a
404); each write calls one service of app.aftersales inside `transaction()`; buttons
are drawn from `services.actions_for(request, policies.buyer(...))`.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.aftersales import applications, disputes, labels, policies, queries, services
from app.aftersales.states import (
    DESCRIPTION_MAX,
    MAX_IMAGES,
    MESSAGE_MAX,
    REASON_TEXT_MAX,
    STATEMENT_MAX,
    AfterSaleKind,
    AfterSaleStatus,
    Reason,
    Side,
)
from app.core import storage
from app.core.bounds import to_int
from app.core.db import transaction
from app.core.errors import DomainError, NotFound
from app.core.htmx import is_htmx, with_toast
from app.core.pagination import paginate
from app.orders import carriers
from app.orders import services as order_services
from app.orders.states import OrderStatus
from app.web.list_filters import pick_tab
from app.web.shop.blueprint import bp
from app.web.templating import local_dt

PER_PAGE = 10
S = AfterSaleStatus

TAB_LABELS = {"all": _l("全部"), "pending": _l("待商家处理"), "awaiting_return": _l("待寄回"),
              "processing": _l("处理中"), "done": _l("已完成"), "ended": _l("已结束")}
EMPTY_TEXTS = {"all": _l("还没有售后申请"), "pending": _l("没有待商家处理的申请"), "awaiting_return": _l("没有待寄回的商品"),
               "processing": _l("没有处理中的申请"), "done": _l("没有已完成的售后"), "ended": _l("没有已结束的申请")}

# The status header's sentence: what happens next, with the deadline (`due`) where someone is waited for.
NEXT_STEP_DUE = {
    S.PENDING: _l("商家将在 %(due)s 前处理，逾期自动同意"),
    S.AWAITING_RETURN: _l("请在 %(due)s 前寄回商品并填写运单号，逾期申请将关闭"),
    S.RETURNED: _l("商家将在 %(due)s 前确认收货，逾期自动退款"),
    S.EXCHANGE_SHIPPED: _l("换货已发出，请在 %(due)s 前确认收货，逾期自动确认"),
    S.REJECTED: _l("商家拒绝了申请，你可以在 %(due)s 前修改后重新申请或申请平台介入，逾期售后将关闭"),
}
NEXT_STEP = {
    S.PENDING: _l("等待商家处理"),
    S.AWAITING_RETURN: _l("商家已同意，请寄回商品并填写运单号"),
    S.RETURNED: _l("商品已寄回，等待商家确认收货"),
    S.EXCHANGE_SHIPPED: _l("换货已发出，收到后请确认"),
    S.REFUNDING: _l("商家已同意退款，款项正在原路退回"),
    S.REFUNDED: _l("退款已原路退回，请留意支付账户"),
    S.COMPLETED: _l("换货已完成"),
    S.REJECTED: _l("商家拒绝了申请，你可以修改后重新申请，或申请平台介入"),
    S.DISPUTED: _l("平台正在处理，结果会通过消息通知你"),
    S.CLOSED: _l("售后已关闭"),
    S.CANCELLED: _l("你已撤销本次申请"),
}
# A returned exchange the shop has received: it now owes the replacement.
REPLACEMENT_DUE = _l("商家已收到退货，将在 %(due)s 前发出换货，逾期自动退款")
KIND_HINTS = {AfterSaleKind.REFUND_ONLY: _l("无需退回商品，只退款"), AfterSaleKind.RETURN_REFUND: _l("寄回商品，商家收货后退款"),
              AfterSaleKind.EXCHANGE: _l("寄回商品，商家换一件新的给你")}
SIDE_LABELS = {Side.BUYER: _l("我"), Side.MERCHANT: _l("商家"), Side.PLATFORM: _l("平台")}
# Timeline dots: the tone of the status a step moved to, as the timeline's CSS names it.
TIMELINE_LOOK = {"success": "approved", "danger": "rejected", "info": "submitted"}


def next_step(aftersale) -> str:
    """What the buyer should expect now, with the deadline when someone is waited for."""
    if aftersale.due_at is not None:
        due = local_dt(aftersale.due_at, "MM-dd HH:mm")
        if aftersale.status == S.RETURNED and aftersale.return_received_at is not None:
            return REPLACEMENT_DUE % {"due": due}
        if aftersale.status in NEXT_STEP_DUE:
            return NEXT_STEP_DUE[aftersale.status] % {"due": due}
    return str(NEXT_STEP.get(aftersale.status, ""))


def timeline_look(status: str) -> str:
    return TIMELINE_LOOK.get(labels.AFTERSALE.tone(status), "")


def buyer_actions(aftersale) -> tuple[str, ...]:
    return services.actions_for(aftersale, policies.buyer(current_user.id))


def image_url(aftersale, key: str | None) -> str:
    name = (key or "").rsplit("/", 1)[-1]
    return url_for("shop.aftersale_image", aftersale_no=aftersale.aftersale_no, name=name)


def aftersale_context() -> dict:
    return {"next_step": next_step, "buyer_actions": buyer_actions, "evidence_url": image_url,
            "reason_text": labels.reason_text, "timeline_look": timeline_look, "carrier_name": carriers.name_for,
            "side_labels": SIDE_LABELS}


# --- the list and the page ------------------------------------------------------------------------


@bp.get("/aftersales")
@login_required
def aftersales():
    tab = pick_tab(request.args, "tab", queries.BUYER_TABS, "all")
    page = paginate(queries.of_buyer(current_user.id, tab), request.args.get("page", 1), PER_PAGE)
    if is_htmx() and request.args.get("page"):
        return render_template("shop/aftersales/_page.html", page=page, tab=tab, **aftersale_context())
    return render_template("shop/aftersales/index.html", page=page, tab=tab, tabs=queries.BUYER_TABS,
                           tab_labels=TAB_LABELS, empty_texts=EMPTY_TEXTS,
                           counts=queries.tab_counts(buyer_id=current_user.id), **aftersale_context())


def _detail_page(aftersale, errors: dict | None = None, form: dict | None = None, status: int = 200):
    return render_template("shop/aftersales/detail.html", aftersale=aftersale, order=aftersale.order,
                           acts=buyer_actions(aftersale), timeline=services.timeline(aftersale.id),
                           carriers=carriers.CARRIERS, errors=errors or {}, form=form or {},
                           statement_max=STATEMENT_MAX, message_max=MESSAGE_MAX, max_images=MAX_IMAGES,
                           **aftersale_context()), status


@bp.get("/aftersales/<aftersale_no>")
@login_required
def aftersale_detail(aftersale_no: str):
    return _detail_page(services.for_buyer(current_user.id, aftersale_no))


@bp.get("/aftersales/<aftersale_no>/images/<name>")
@login_required
def aftersale_image(aftersale_no: str, name: str):
    """Evidence photos are private: the buyer sees those of their own requests only."""
    key = services.evidence_key(services.for_buyer(current_user.id, aftersale_no), name)
    if key is None:
        raise NotFound(_("图片不存在"))
    path, content_type = storage.open_stored(key)
    return send_file(path, mimetype=content_type, max_age=3600)


# --- applying and reapplying --------------------------------------------------------------------


def _images() -> list[bytes]:
    return [f.read() for f in request.files.getlist("images") if f and f.filename]


def _read_application() -> applications.Application:
    """The form as the service takes it; the lines' numbers are bounded by `read_lines`
    (a ValidationError naming the field)."""
    items, quantities = request.form.getlist("item"), request.form.getlist("quantity")
    raw = [{"order_item_id": i, "quantity": q} for i, q in zip(items, quantities, strict=False)]
    if len(items) != len(quantities):
        raw = []
    return applications.Application(lines=applications.read_lines(raw), kind=request.form.get("kind") or "",
                                reason=request.form.get("reason") or "",
                                reason_text=request.form.get("reason_text") or "",
                                description=request.form.get("description") or "", images=_images())


def _form_values(lines: list[tuple], kinds: tuple[str, ...], aftersale=None) -> dict:
    """What the form shows: what was posted, else the request being reapplied, else defaults."""
    posted = request.method == "POST"
    quantities = dict(zip(request.form.getlist("item"), request.form.getlist("quantity"), strict=False))
    source = aftersale
    asked = request.args.get("kind")  # a link may preselect a kind (?kind=refund_only) when it is allowed
    return {
        "kind": request.form.get("kind") if posted else (source.kind if source else
                                                         (asked if asked in kinds else kinds[0])),
        "reason": request.form.get("reason") if posted else (source.reason if source else ""),
        "reason_text": request.form.get("reason_text") if posted else (source.reason_text if source else ""),
        "description": request.form.get("description") if posted else (source.description if source else ""),
        "quantities": {item.id: (quantities.get(str(item.id)) if posted else quantity) for item, quantity in lines},
    }


def _estimate(order, lines) -> int:
    """The refund the lines would get back now (the page's first figure, before HTMX updates it)."""
    return applications.estimate_refund(order, lines)[0]


def _form_page(order, lines, kinds, *, aftersale=None, errors=None, message=None, status=200):
    values = _form_values(lines, kinds, aftersale)
    shown = [(item, to_int(values["quantities"].get(item.id), 1, item.refundable_quantity) or 1)
             for item, _q in lines]
    return render_template("shop/aftersales/apply.html", order=order, lines=lines, kinds=kinds, form=values,
                           aftersale=aftersale, errors=errors or {}, message=message,
                           estimate_fen=_estimate(order, shown), reasons=labels.REASON.choices(),
                           kind_labels=labels.KIND, kind_hints=KIND_HINTS, other_reason=Reason.OTHER,
                           kind_note=_("商家尚未发货，只能申请仅退款") if order.status == OrderStatus.PAID else None,
                           max_images=MAX_IMAGES, description_max=DESCRIPTION_MAX,
                           reason_text_max=REASON_TEXT_MAX), status


def _submitted(aftersale) -> str:
    if aftersale.status in (S.REFUNDING, S.REFUNDED):
        return _("已同意退款，款项将原路退回")
    return _("售后申请已提交，请等待商家处理")


@bp.route("/orders/<order_no>/aftersale", methods=["GET", "POST"])
@login_required
def aftersale_apply(order_no: str):
    """申请售后 for one item of the order (`?item=`): the kinds allowed now, how many,
    why, a description and up to 6 photos."""
    order = order_services.for_buyer(current_user.id, order_no)
    item_id = to_int(request.args.get("item"), 1)
    item = next((i for i in order.items if i.id == item_id), None)
    if item is None:
        abort(404)
    kinds = applications.may_apply_items(order).get(item.id)
    if not kinds:
        flash(_("该商品当前不能申请售后"), "warning")
        return redirect(url_for("shop.order_detail", order_no=order_no))
    lines = [(item, item.refundable_quantity)]
    if request.method == "POST":
        try:
            with transaction():
                made = applications.apply(current_user.id, order_no, _read_application())
                number, message = made.aftersale_no, _submitted(made)
        except DomainError as exc:
            if exc.status == 404:
                raise
            return _form_page(order, lines, kinds, errors=exc.fields, message=exc.message, status=exc.status)
        flash(message, "success")
        return redirect(url_for("shop.aftersale_detail", aftersale_no=number))
    return _form_page(order, lines, kinds)


@bp.route("/aftersales/<aftersale_no>/reapply", methods=["GET", "POST"])
@login_required
def aftersale_reapply(aftersale_no: str):
    """重新申请: the same form, filled in with the request as it was."""
    aftersale = services.for_buyer(current_user.id, aftersale_no)
    detail = url_for("shop.aftersale_detail", aftersale_no=aftersale_no)
    if policies.Act.REAPPLY not in buyer_actions(aftersale):
        flash(_("该申请当前不能重新申请"), "warning")
        return redirect(detail)
    order = order_services.for_buyer(current_user.id, aftersale.order.order_no)
    eligible = applications.may_apply_items(order, holder_id=aftersale.id)
    items = {item.id: item for item in order.items}
    lines = [(items[line.order_item_id], line.quantity) for line in aftersale.lines]
    allowed = [set(eligible.get(item.id, ())) for item, _q in lines]
    kinds = tuple(kind for kind in AfterSaleKind if all(kind in each for each in allowed))
    if not kinds:
        flash(_("该商品当前不能申请售后"), "warning")
        return redirect(detail)
    if request.method == "POST":
        try:
            with transaction():
                again = applications.reapply(current_user.id, aftersale_no, _read_application())
                message = _submitted(again)
        except DomainError as exc:
            if exc.status == 404:
                raise
            return _form_page(order, lines, kinds, aftersale=aftersale, errors=exc.fields, message=exc.message,
                              status=exc.status)
        flash(message, "success")
        return redirect(detail)
    return _form_page(order, lines, kinds, aftersale=aftersale)


@bp.get("/orders/<order_no>/aftersale/estimate")
@login_required
def aftersale_estimate(order_no: str):
    """The refund estimate as the quantity changes (HTMX): each `item` of the buyer's
    order with its `quantity`, held to 1..what is left of it."""
    order = order_services.for_buyer(current_user.id, order_no)
    items = {item.id: item for item in order.items}
    chosen = []
    for raw_id, raw_quantity in zip(request.args.getlist("item"), request.args.getlist("quantity"), strict=False):
        item = items.get(to_int(raw_id, 1))
        if item is not None and item.refundable_quantity:
            chosen.append((item, to_int(raw_quantity, 1, item.refundable_quantity) or 1))
    return render_template("shop/aftersales/_estimate.html", estimate_fen=_estimate(order, chosen))


@bp.post("/orders/<order_no>/cancel-refund")
@login_required
def order_cancel_refund(order_no: str):
    """取消订单并退款: a refund-only of everything left of a paid, unshipped order."""
    order = order_services.for_buyer(current_user.id, order_no)
    detail = url_for("shop.order_detail", order_no=order_no)
    lines = applications.whole_refund_lines(order)
    if lines is None:
        flash(_("该订单当前不能取消并退款"), "warning")
        return redirect(detail)
    application = applications.Application(lines=lines, kind=AfterSaleKind.REFUND_ONLY,
                                       reason=request.form.get("reason") or "",
                                       reason_text=request.form.get("reason_text") or "")
    try:
        with transaction():
            made = applications.apply(current_user.id, order_no, application)
            number, message = made.aftersale_no, _submitted(made)
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "danger")
        return redirect(detail)
    flash(message, "success")
    return redirect(url_for("shop.aftersale_detail", aftersale_no=number))


# --- what the buyer does to a request -----------------------------------------------------------


def _act(aftersale_no: str, action, done: str):
    """`action()` in a transaction, then back to the request's page: a refusal with
    fields re-renders the page with them under the form (nothing changed), any other
    refusal is flashed; someone else's request is a 404."""
    try:
        with transaction():
            action()
    except DomainError as exc:
        if exc.status == 404:
            raise
        if exc.fields:
            form = {key: request.form.get(key, "") for key in ("carrier", "tracking_no", "statement", "body")}
            return _detail_page(services.for_buyer(current_user.id, aftersale_no), errors=exc.fields,
                                form=form, status=exc.status)
        flash(exc.message, "danger")
    else:
        flash(done, "success")
    return redirect(url_for("shop.aftersale_detail", aftersale_no=aftersale_no))


@bp.post("/aftersales/<aftersale_no>/cancel")
@login_required
def aftersale_cancel(aftersale_no: str):
    return _act(aftersale_no, lambda: services.cancel(current_user.id, aftersale_no), _("已撤销售后申请"))


@bp.post("/aftersales/<aftersale_no>/return-shipment")
@login_required
def aftersale_ship_back(aftersale_no: str):
    return _act(aftersale_no, lambda: services.ship_back(current_user.id, aftersale_no, request.form.get("carrier"),
                                                          request.form.get("tracking_no")),
                _("已提交退货物流，等待商家确认收货"))


@bp.post("/aftersales/<aftersale_no>/confirm-replacement")
@login_required
def aftersale_confirm(aftersale_no: str):
    return _act(aftersale_no, lambda: services.confirm_replacement(current_user.id, aftersale_no),
                _("已确认收到换货"))


@bp.post("/aftersales/<aftersale_no>/escalate")
@login_required
def aftersale_escalate(aftersale_no: str):
    return _act(aftersale_no, lambda: disputes.escalate(current_user.id, aftersale_no, request.form.get("statement"),
                                                         _images()),
                _("已申请平台介入，平台将尽快处理"))


@bp.post("/aftersales/<aftersale_no>/messages")
@login_required
def aftersale_message(aftersale_no: str):
    """A line in the dispute thread as the buyer (while the platform has not ruled).
    HTMX swaps the thread; a plain post comes back to the page."""
    aftersale = services.for_buyer(current_user.id, aftersale_no)
    body = request.form.get("body")
    if not is_htmx():
        return _act(aftersale_no, lambda: disputes.post(aftersale, current_user.id, Side.BUYER, body, _images()),
                    _("留言已发送"))
    error = None
    try:
        with transaction():
            disputes.post(aftersale, current_user.id, Side.BUYER, body, _images())
    except DomainError as exc:
        if exc.status == 404:
            raise
        error = exc.message
    html = render_template("shop/aftersales/_thread.html", aftersale=services.for_buyer(current_user.id, aftersale_no),
                           error=error, body=body if error else "", message_max=MESSAGE_MAX, max_images=MAX_IMAGES,
                           **aftersale_context())
    # 200 either way, so htmx swaps the thread (with the error under the box) and shows the toast
    return with_toast(html, error, "danger") if error else with_toast(html, _("留言已发送"))
