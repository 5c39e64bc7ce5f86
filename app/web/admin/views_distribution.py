"""Admin 分销管理 (HTMX): the rules form with its change history, and the
distributors (list with team sizes and earnings, detail with timeline, team and
commissions, grant / freeze / unfreeze). The review queues, commissions and
withdrawals are in views_distribution_queues.py.

Every write calls one service of app.distribution inside `with transaction():`;
a refusal (ValidationError, Conflict) re-renders with the message and changes
nothing. Lists run a fixed number of queries whatever the page size."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import aliased, contains_eager

from app.accounts.models import User
from app.core import settings as platform_settings
from app.core.db import transaction
from app.core.errors import DomainError, ValidationError
from app.core.htmx import is_htmx, with_toast
from app.core.labels import labels_for
from app.core.money import format_yuan
from app.core.pagination import paginate
from app.distribution import distributors, policies, queries
from app.distribution import rules as rules_service
from app.distribution.labels import METHOD_LABELS, event_look, event_title
from app.distribution.models import Distributor, Withdrawal
from app.distribution.states import (
    COMMISSION_LIFECYCLE,
    BindingMode,
    DistributorStatus,
    Qualification,
    WithdrawalStatus,
)
from app.extensions import db
from app.finance import payouts
from app.finance.labels import gateway_label
from app.web.admin.blueprint import bp
from app.web.auth import admin_required

QUALIFICATION_LABELS = {Qualification.EVERYONE: _l("所有用户"), Qualification.APPLICATION: _l("申请审核"),
                        Qualification.SPEND_THRESHOLD: _l("消费满额自动开通")}
BINDING_LABELS = {BindingMode.PERMANENT: _l("永久绑定（首次推荐有效）"), BindingMode.DAYS: _l("限时绑定（到期后可被新链接改绑）"),
                  BindingMode.LAST_TOUCH: _l("最后推荐有效")}
FIELD_LABELS = {
    "enabled": _l("分销开关"), "levels": _l("分销层级"), "level1_bp": _l("一级佣金比例"),
    "level2_bp": _l("二级佣金比例"), "level3_bp": _l("三级佣金比例"), "qualification": _l("成为分销商"),
    "spend_threshold_fen": _l("消费门槛"), "binding_mode": _l("绑定方式"), "binding_days": _l("绑定有效期"),
    "bind_new_users_only": _l("仅绑定新用户"), "self_purchase": _l("自购返佣"),
    "settlement_delay_days": _l("结算周期"), "withdrawal_min_fen": _l("最低提现"), "withdrawal_max_fen": _l("最高提现"),
    "withdrawal_fee_bp": _l("提现手续费"), "withdrawal_methods": _l("提现方式"),
}


def distribution_helpers() -> dict:
    """What the distribution templates share: filter choices in the domain's own words
    (statuses are drawn with `status_label` / `status_badge`)."""
    return {
        "distributor_statuses": labels_for("distributor").choices(),
        "commission_statuses": labels_for("commission").choices(),
        "withdrawal_statuses": labels_for("withdrawal").choices(), "method_labels": METHOD_LABELS,
        "qualification_labels": QUALIFICATION_LABELS, "binding_labels": BINDING_LABELS,
        # Buttons are drawn from what this admin may do now (app.distribution.policies).
        "distributor_actions": lambda d: policies.actions_for(d, actor()),
        "withdrawal_actions": lambda w: policies.actions_for(w, actor()),
        # where a withdrawal may be paid from (read when a row offers 确认已打款)
        "paying_accounts": payouts.paying_accounts, "gateway_label": gateway_label,
        "may_settle": lambda c: COMMISSION_LIFECYCLE.allows("settle", c.status),
        "event_title": event_title, "event_look": event_look,
    }


@bp.app_context_processor
def distribution_sidebar():
    def admin_pending_distributors() -> int:
        return db.session.scalar(sa.select(sa.func.count(Distributor.id))
                                 .where(Distributor.status == DistributorStatus.PENDING)) or 0

    def admin_requested_withdrawals() -> int:
        return db.session.scalar(sa.select(sa.func.count(Withdrawal.id))
                                 .where(Withdrawal.status == WithdrawalStatus.REQUESTED)) or 0

    return {"admin_pending_distributors": admin_pending_distributors,
            "admin_requested_withdrawals": admin_requested_withdrawals}


def actor():
    return current_user._get_current_object()


# --- rules ------------------------------------------------------------------------------------

def describe(field: str, value) -> str:
    """One rules value as the history table shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("开") if field == "enabled" and value else _("关") if field == "enabled" else _("是") if value else _("否")
    if field.endswith("_bp"):
        return f"{value / 100:g}%"
    if field.endswith("_fen"):
        return format_yuan(value)
    if field.endswith("_days"):
        return _("%(n)d 天", n=value)
    if field == "levels":
        return _("%(n)d 级", n=value)
    if field == "qualification":
        return str(QUALIFICATION_LABELS.get(value, value))
    if field == "binding_mode":
        return str(BINDING_LABELS.get(value, value))
    if field == "withdrawal_methods":
        return "、".join(str(METHOD_LABELS.get(m, m)) for m in value) or "—"
    return str(value)


def history_rows(limit: int = 30) -> list[dict]:
    """Each saved version with who saved it and what changed against the version before it."""
    versions = rules_service.history(limit + 1)  # one more, to diff the oldest shown
    actor_ids = {v.changed_by_id for v in versions if v.changed_by_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    rows = []
    for index, version in enumerate(versions[:limit]):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        base = previous or rules_service.defaults()
        changes = [(str(FIELD_LABELS[f]), describe(f, getattr(base, f)), describe(f, getattr(version, f)))
                   for f in rules_service.FIELDS if getattr(base, f) != getattr(version, f)]
        rows.append({"version": version, "actor": actors.get(version.changed_by_id), "changes": changes,
                     "first": previous is None, "current": index == 0})
    return rows


def _rules_page(values: dict, errors: dict, note: str = "", status: int = 200):
    current = rules_service.current()
    return render_template(
        "admin/distribution/rules.html", values=values, errors=errors, note=note, current=current,
        max_total=f"{rules_service.max_total_bp() / 100:g}", history=history_rows(),
        return_window=platform_settings.get("aftersale_window_days"),
        **distribution_helpers()), status


@bp.get("/distribution/rules")
@admin_required("distribution.view")
def distribution_rules():
    return _rules_page(rules_service.as_form(rules_service.current()), {})


@bp.post("/distribution/rules")
@admin_required("distribution.manage")
def distribution_rules_save():
    data = {key: value for key, value in request.form.items() if key not in ("withdrawal_methods", "csrf_token")}
    data["withdrawal_methods"] = request.form.getlist("withdrawal_methods")
    for box in ("enabled", "bind_new_users_only", "self_purchase"):
        data[box] = box in request.form  # an unticked box is not sent
    note = (request.form.get("note") or "").strip()[:200]
    before = rules_service.current().id
    try:
        with transaction():
            saved = rules_service.update(actor(), data, note)
    except ValidationError as exc:
        flash(exc.message, "danger")
        return _rules_page(data, exc.fields or {"_": exc.message}, note, 422)
    if saved.id == before:
        flash(_("规则没有变化，未保存新版本"), "info")
    else:
        flash(_("分销规则已保存为第 %(v)d 版，对之后的新订单生效", v=saved.id), "success")
    return redirect(url_for("admin.distribution_rules"))


# --- distributors -----------------------------------------------------------------------------

def _status_param(statuses: tuple[str, ...]) -> str:
    status = request.args.get("status", "")
    return status if status in statuses else ""


def _distributor_stmt(q: str, status: str) -> sa.Select:
    parent = aliased(Distributor)
    stmt = (sa.select(Distributor).join(User, User.id == Distributor.user_id)
            .outerjoin(parent, parent.id == Distributor.parent_id)
            .options(contains_eager(Distributor.user), contains_eager(Distributor.parent.of_type(parent))))
    if status:
        stmt = stmt.where(Distributor.status == status)
    if q:
        matches = [User.nickname.icontains(q, autoescape=True), Distributor.real_name.icontains(q, autoescape=True),
                   Distributor.code == q.upper()]
        digits = q.lstrip("+")
        if digits.isdigit():
            matches += [User.phone.contains(digits, autoescape=True),
                        Distributor.phone.contains(digits, autoescape=True)]
        stmt = stmt.where(sa.or_(*matches))
    return stmt.order_by(Distributor.id.desc())


def _list_context(grant_values: dict | None = None, grant_error: str | None = None) -> dict:
    q = (request.args.get("q") or "").strip()[:40]
    status = _status_param(labels_for("distributor").statuses)
    page = paginate(_distributor_stmt(q, status), request.args.get("page", 1), request.args.get("per_page", 20))
    ids = [d.id for d in page.items]
    return {"page": page, "q": q, "status": status, "args": {k: v for k, v in {"q": q, "status": status}.items() if v},
            "earnings": queries.earnings_of(ids), "teams": queries.team_counts(ids),
            "grant_values": grant_values or {}, "grant_error": grant_error, **distribution_helpers()}


@bp.get("/distribution/distributors")
@admin_required("distribution.view")
def distribution_distributors():
    context = _list_context()
    if is_htmx() and request.headers.get("HX-Target") == "distributors-table":
        return render_template("admin/distribution/_distributors_table.html", **context)
    return render_template("admin/distribution/distributors.html", **context)


def _user_by_phone(raw: str) -> User | None:
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11:
        return None
    return db.session.scalar(sa.select(User).where(User.phone == "+86" + digits))


@bp.post("/distribution/distributors/grant")
@admin_required("distribution.manage")
def distribution_distributors_grant():
    phone = (request.form.get("phone") or "").strip()[:20]
    user = _user_by_phone(phone)
    error = None
    if not phone:
        error = _("请填写用户手机号")
    elif user is None:
        error = _("没有找到手机号为 %(p)s 的用户", p=phone)
    else:
        try:
            with transaction():
                granted = distributors.grant(actor(), user.id)
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = exc.message
        else:
            flash(_("已为 %(name)s 开通分销资格（推广码 %(code)s）", name=user.display_name, code=granted.code), "success")
            return redirect(url_for("admin.distribution_distributors_detail", distributor_id=granted.id))
    flash(error, "danger")
    return render_template("admin/distribution/distributors.html",
                           **_list_context({"phone": phone}, error)), 422


def _detail_context(distributor: Distributor, errors: dict | None = None, values: dict | None = None) -> dict:
    events = distributors.timeline(distributor.id)
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    team = list(db.session.scalars(sa.select(Distributor).where(Distributor.parent_id == distributor.id)
                                   .options(contains_eager(Distributor.user)).join(User, User.id == Distributor.user_id)
                                   .order_by(Distributor.id.desc()).limit(50)))
    recent = db.session.execute(queries.commission_rows(distributor_id=distributor.id).limit(20)).all()
    return {"distributor": distributor, "user": distributor.user, "parent": distributor.parent, "events": events,
            "actors": actors, "team": team, "team_size": queries.team_count(distributor.id),
            "team_counts": queries.team_counts([d.id for d in team]), "recent": recent,
            "earning": queries.earnings(distributor.id), "actions": policies.actions_for(distributor, actor()),
            "errors": errors or {}, "values": values or {}, **distribution_helpers()}


@bp.get("/distribution/distributors/<int:distributor_id>")
@admin_required("distribution.view")
def distribution_distributors_detail(distributor_id: int):
    return render_template("admin/distribution/detail.html", **_detail_context(distributors.get(distributor_id)))


def _act(distributor_id: int, action, message: str):
    distributors.get(distributor_id)  # 404 first
    values = {"reason": (request.form.get("reason") or "")[:200]}
    try:
        with transaction():
            action(values["reason"])
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        db.session.expire_all()
        context = _detail_context(distributors.get(distributor_id), exc.fields or {"reason": exc.message}, values)
        if is_htmx():
            return with_toast(render_template("admin/distribution/_actions.html", **context), exc.message, "danger")
        flash(exc.message, "danger")
        return render_template("admin/distribution/detail.html", **context), 422
    db.session.expire_all()
    if is_htmx():
        context = _detail_context(distributors.get(distributor_id))
        return with_toast(render_template("admin/distribution/_actions_swap.html", **context), message)
    flash(message, "success")
    return redirect(url_for("admin.distribution_distributors_detail", distributor_id=distributor_id))


@bp.post("/distribution/distributors/<int:distributor_id>/freeze")
@admin_required("distribution.manage")
def distribution_distributors_freeze(distributor_id: int):
    return _act(distributor_id, lambda reason: distributors.freeze(actor(), distributor_id, reason),
                _("已冻结，冻结期间不产生新佣金，也不能提现"))


@bp.post("/distribution/distributors/<int:distributor_id>/unfreeze")
@admin_required("distribution.manage")
def distribution_distributors_unfreeze(distributor_id: int):
    return _act(distributor_id, lambda _reason: distributors.unfreeze(actor(), distributor_id), _("已解除冻结"))
