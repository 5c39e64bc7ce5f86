"""Admin 售后纠纷 (HTMX): the dispute queue (待处理 / 已处理) with its sidebar badge,
every after-sale request on the platform (read-only; by status, shop and number), and
one request's page: both sides' statements and evidence side by side, the request
(lines, reason, photos, return shipment), its order, timeline and refunds, the
dispute thread (the platform writes as `Side.PLATFORM`) and the ruling (a `Ruling` and
a required note, confirmed; `disputes.rule` writes the audit row).

Operators and super admins rule and write in threads (`aftersales.rule`); finance
reads (`aftersales.view`). Ruling and messages work as plain form posts (redirect +
flash, or the page again with the error under its field, 422) and over HTMX (the panel
swapped, status, timeline and thread out of band, the result as a toast). The lists
run a fixed number of queries whatever the page size."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.aftersales import disputes, policies, queries, services
from app.aftersales.labels import AFTERSALE, RULING, reason_text
from app.aftersales.models import AfterSale
from app.aftersales.states import MAX_IMAGES, MESSAGE_MAX, Ruling, Side
from app.core import storage
from app.core.bounds import to_int
from app.core.clock import as_utc, utcnow
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.core.labels import Tone
from app.core.pagination import paginate
from app.extensions import db
from app.merchants.models import Merchant
from app.orders import carriers
from app.orders.models import Order
from app.payments import queries as payment_queries
from app.web.admin.blueprint import bp
from app.web.admin.views_orders import payment_helpers, refund_context
from app.web.auth import admin_required
from app.web.merchant.views_orders import image_url

DISPUTE_TABS = (("open", _l("待处理")), ("done", _l("已处理")))
SIDES = {Side.BUYER: _l("买家"), Side.MERCHANT: _l("商家"), Side.PLATFORM: _l("平台")}
# What each ruling does, beside its choice in the form (disputes.rule).
RULING_HELP = {
    Ruling.REFUND: _l("买家保留商品，立即原路退款"),
    Ruling.RETURN_REFUND: _l("买家寄回商品到商家默认退货地址，商家收货后退款；商品已寄回的立即退款"),
    Ruling.CLOSE: _l("不退款，售后关闭，买家不能再为这些商品申请售后"),
}
# The timeline's dot colours (theme.css: submitted blue, approved green, rejected red), by tone.
_LOOKS = {Tone.GOOD: "approved", Tone.BAD: "rejected"}
Q_MAX = 32
LONG_WAIT = timedelta(days=1)
NOTE_MAX = 500


@bp.app_context_processor
def aftersales_sidebar():
    return {"admin_open_disputes": queries.open_dispute_count}


def _actor():
    return current_user._get_current_object()


def _waited(since) -> str:
    """How long something has waited, in the largest two units (3 天 4 小时, 25 分钟)."""
    minutes = max(0, int((utcnow() - as_utc(since)).total_seconds() // 60))
    days, hours = minutes // 1440, minutes % 1440 // 60
    if days:
        return _("%(d)d 天 %(h)d 小时", d=days, h=hours)
    if hours:
        return _("%(h)d 小时 %(m)d 分钟", h=hours, m=minutes % 60)
    return _("%(m)d 分钟", m=minutes)


def _waited_long(since) -> bool:
    """Past a day: the queue shows it in orange."""
    return utcnow() - as_utc(since) > LONG_WAIT


def _look(status: str) -> str:
    return _LOOKS.get(AFTERSALE.tone(status), "submitted")


def _image_name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def helpers() -> dict:
    """What the after-sales templates ask: words, colours, image links."""
    return {"waited": _waited, "waited_long": _waited_long, "side_label": lambda side: str(SIDES.get(side, side)), "aftersale_look": _look,
            "reason_text": reason_text, "carrier_name": carriers.name_for, "order_image_url": image_url,
            "evidence_url": lambda aftersale, key: url_for("admin.disputes_image", aftersale_no=aftersale.aftersale_no,
                                                           name=_image_name(key)),
            "ruling_choices": [(value, label, RULING_HELP.get(value, "")) for value, label in RULING.choices()]}


def _wants(target: str) -> bool:
    return is_htmx() and request.headers.get("HX-Target") == target


# --- the dispute queue ----------------------------------------------------------------------------

@bp.get("/disputes", endpoint="disputes")
@admin_required("aftersales.view")
def disputes_index():
    tab = request.args.get("tab", "open")
    tab = tab if tab in dict(DISPUTE_TABS) else "open"
    page = paginate(queries.disputes(open_only=tab == "open"), request.args.get("page", 1),
                    request.args.get("per_page", 20))
    rulers = _users({a.dispute.ruled_by_id for a in page.items if a.dispute.ruled_by_id})
    context = {"page": page, "tab": tab, "tabs": DISPUTE_TABS, "counts": queries.dispute_counts(),
               "rulers": rulers, **helpers()}
    if _wants("disputes-table"):
        return render_template("admin/aftersales/_disputes_table.html", **context)
    return render_template("admin/aftersales/disputes.html", **context)


def _users(ids: set[int]) -> dict[int, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


# --- every request ---------------------------------------------------------------------------------

def _filters() -> dict:
    status = request.args.get("status", "")
    merchant_id = to_int(request.args.get("merchant_id"), 1)
    return {"status": status if status in AFTERSALE.statuses else "", "merchant_id": merchant_id or "",
            "q": (request.args.get("q") or "").strip()[:Q_MAX]}


@bp.get("/aftersales", endpoint="aftersales")
@admin_required("aftersales.view")
def aftersales_index():
    values = _filters()
    stmt = queries.for_platform(values["status"] or None, values["merchant_id"] or None, values["q"] or None)
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 30))
    merchants = db.session.execute(sa.select(Merchant.id, Merchant.name).order_by(Merchant.name)).all()
    context = {"page": page, "values": values, "args": {k: v for k, v in values.items() if v},
               "merchants": merchants, "status_choices": AFTERSALE.choices(), **helpers()}
    if _wants("aftersales-table"):
        return render_template("admin/aftersales/_table.html", **context)
    return render_template("admin/aftersales/index.html", **context)


# --- one request ---------------------------------------------------------------------------------

def _detail_context(aftersale: AfterSale, errors: dict | None = None, values: dict | None = None) -> dict:
    """Everything the request's page shows; `errors`/`values`: a refused form's
    messages by field and what was typed, under "rule" or "message"."""
    order = db.session.scalar(sa.select(Order).where(Order.id == aftersale.order_id)
                              .options(selectinload(Order.merchant), selectinload(Order.buyer)))
    dispute = aftersale.dispute
    messages = list(dispute.messages) if dispute else []
    events = services.timeline(aftersale.id)
    people = _users({e.actor_id for e in events} | {m.author_id for m in messages}
                    | ({dispute.ruled_by_id} if dispute else set()))
    refunds = [r for r in payment_queries.refunds_of_order(order.id) if r.aftersale_id == aftersale.id]
    return {"aftersale": aftersale, "order": order, "dispute": dispute, "messages": messages, "events": events,
            "people": people, **refund_context(refunds), **payment_helpers(),
            "actions": services.actions_for(aftersale, _platform_actor()),
            "errors": errors or {}, "values": values or {}, "message_max": MESSAGE_MAX, "note_max": NOTE_MAX,
            "max_images": MAX_IMAGES, **helpers()}


@bp.get("/disputes/<aftersale_no>")
@admin_required("aftersales.view")
def disputes_detail(aftersale_no: str):
    return render_template("admin/aftersales/detail.html", **_detail_context(services.for_platform(aftersale_no)))


@bp.get("/disputes/<aftersale_no>/images/<name>")
@admin_required("aftersales.view")
def disputes_image(aftersale_no: str, name: str):
    """A photo of this request: the buyer's, either side's evidence, or the thread's."""
    key = queries.image_key(services.for_platform(aftersale_no), name)
    if key is None:
        abort(404)
    path, content_type = storage.open_stored(key)
    return send_file(path, mimetype=content_type, max_age=3600)


# The detail page's forms: the panel each one swaps, and its anchor for plain posts.
PANELS = {"rule": ("admin/aftersales/_ruling.html", "#ruling-panel"),
          "message": ("admin/aftersales/_thread.html", "#dispute-thread")}


def _answer(aftersale_no: str, form: str, message: str, level: str = "success"):
    """After a ruling or a message (or a refused one): the fresh panels over HTMX, else
    back to the page."""
    if is_htmx():
        db.session.expire_all()
        html = render_template("admin/aftersales/_dispute_swap.html", main=form,
                               **_detail_context(services.for_platform(aftersale_no)))
        return with_toast(html, message, level)
    flash(message, level)
    return redirect(url_for("admin.disputes_detail", aftersale_no=aftersale_no) + PANELS[form][1])


def _refused(aftersale_no: str, form: str, values: dict, message: str, fields: dict, status: int):
    """Nothing changed: the form again with the error under its field, what was typed
    kept; a refusal about no field (the request moved on) comes as a toast."""
    db.session.rollback()
    if not fields:
        return _answer(aftersale_no, form, message, "warning" if status == 409 else "danger")
    context = _detail_context(services.for_platform(aftersale_no), {form: fields}, {form: values})
    if is_htmx():
        return with_toast(render_template(PANELS[form][0], **context), message, "danger")
    flash(message, "danger")
    return render_template("admin/aftersales/detail.html", **context), 422


def _platform_actor() -> policies.Actor:
    return policies.admin(current_user.id, current_user.admin_role)


@bp.post("/disputes/<aftersale_no>/rule")
@admin_required("aftersales.rule")
def disputes_rule(aftersale_no: str):
    aftersale = services.for_platform(aftersale_no)  # 404 first
    already_ruled = aftersale.dispute is not None and aftersale.dispute.ruled_at is not None
    values = {"ruling": request.form.get("ruling", ""), "note": request.form.get("note", "")}
    try:
        with transaction():
            disputes.rule(_actor(), aftersale_no, values["ruling"], values["note"])
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        message = _("该纠纷已经裁定，不能再次裁定") if already_ruled else exc.message
        return _refused(aftersale_no, "rule", values, message, exc.fields, exc.status)
    return _answer(aftersale_no, "rule", _("已裁定：%(ruling)s", ruling=RULING.label(values["ruling"])))


@bp.post("/disputes/<aftersale_no>/messages")
@admin_required("aftersales.rule")
def disputes_message(aftersale_no: str):
    aftersale = services.for_platform(aftersale_no)
    values = {"body": request.form.get("body", "")}
    if policies.Act.MESSAGE not in services.actions_for(aftersale, _platform_actor()):
        return _refused(aftersale_no, "message", values, _("售后不在平台介入中，不能留言"), {}, 409)
    files = [f for f in request.files.getlist("images") if f and f.filename][:MAX_IMAGES + 1]
    try:
        with transaction():
            disputes.post(aftersale, current_user.id, Side.PLATFORM, values["body"], [f.read() for f in files])
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        # An image the store refused names no field: it belongs under the photos.
        fields = exc.fields or ({"images": exc.message} if exc.status == 422 else {})
        return _refused(aftersale_no, "message", values, exc.message, fields, exc.status)
    return _answer(aftersale_no, "message", _("留言已发送，买家和商家都能看到"))
