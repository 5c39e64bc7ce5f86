"""Admin category tree (HTMX): the three-level tree with rename, icon and after-sales
window (售后期, blank: the parent's or the platform's) inline,
move up / down, activate / deactivate and add child; a form for a new top-level
category. Every action swaps the whole tree and answers with a toast, and still
works as a plain form post (redirect + flash). A refused change re-renders the
tree with the error under the form that caused it and the typed values kept.

The platform fee (服务费率, blank: the parent's or the platform's) sits beside the window
in a form of its own: fees are money, so finance edits them (`fees.edit`) and sees the
tree read-only otherwise (`catalog.view`); operators edit the tree and see the fee."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts import policies
from app.catalog import categories
from app.catalog.models import Product
from app.catalog.states import MAX_CATEGORY_DEPTH
from app.core import settings as platform_settings
from app.core.bounds import to_int
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.extensions import db
from app.web.admin.blueprint import bp
from app.web.auth import admin_required


def _actor():
    return current_user._get_current_object()


def _product_counts() -> dict[int, int]:
    rows = db.session.execute(sa.select(Product.category_id, sa.func.count(Product.id)).group_by(Product.category_id))
    return {category_id: n for category_id, n in rows}


def _context(errors: dict | None = None, values: dict | None = None, form_key: str | None = None) -> dict:
    return {"tree": categories.tree(), "product_counts": _product_counts(), "max_depth": MAX_CATEGORY_DEPTH,
            "platform_window_days": platform_settings.get("aftersale_window_days"),
            "window_range": (categories.AFTERSALE_WINDOW_MIN, categories.AFTERSALE_WINDOW_MAX),
            "platform_fee_bp": platform_settings.get("platform_fee_bp"), "percent": categories.bp_to_percent,
            "fee_range": (categories.bp_to_percent(categories.PLATFORM_FEE_MIN_BP),
                          categories.bp_to_percent(categories.PLATFORM_FEE_MAX_BP)),
            "may_manage": policies.can(current_user, "catalog.manage"),
            "may_edit_fees": policies.can(current_user, "fees.edit"),
            "errors": errors or {}, "values": values or {}, "form_key": form_key}


def _page(status: int = 200, **context):
    return render_template("admin/categories/index.html", **_context(**context)), status


@bp.get("/categories")
@admin_required("catalog.view")
def categories_index():
    if is_htmx() and not request.headers.get("HX-Boosted"):
        return render_template("admin/categories/_tree.html", **_context())
    return _page()


def _done(message: str, level: str = "success"):
    if is_htmx():
        return with_toast(render_template("admin/categories/_tree.html", **_context()), message, level)
    flash(message, level)
    return redirect(url_for("admin.categories_index"))


def _refused(exc: DomainError, form_key: str, values: dict):
    """Nothing changed: the tree again, the error under the form that caused it."""
    db.session.rollback()
    errors = dict(exc.fields or {}) or {"form": exc.message}
    if is_htmx():
        html = render_template("admin/categories/_tree.html", **_context(errors, values, form_key))
        return with_toast(html, exc.message, "danger")
    return _page(422, errors=errors, values=values, form_key=form_key)


def _run(action, form_key: str, values: dict, message):
    try:
        with transaction():
            result = action()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _refused(exc, form_key, values)
    return _done(message(result) if callable(message) else message)


def _parent_id() -> int | None:
    raw = request.form.get("parent_id") or ""
    return to_int(raw, 1)


@bp.post("/categories")
@admin_required("catalog.manage")
def categories_create():
    parent_id = _parent_id()
    values = {"name": request.form.get("name", ""), "icon": request.form.get("icon", "")}
    form_key = f"child-{parent_id}" if parent_id else "new"
    return _run(lambda: categories.create(_actor(), values["name"], parent_id, values["icon"] or None),
                form_key, values, lambda c: _("已添加类目「%(name)s」", name=c.name))


@bp.post("/categories/<int:category_id>/update")
@admin_required("catalog.manage")
def categories_update(category_id: int):
    categories.get(category_id)
    values = {"name": request.form.get("name", ""), "icon": request.form.get("icon", "")}
    window_sent = "aftersale_window_days" in request.form  # a form without the field keeps the window
    window = (request.form.get("aftersale_window_days") or "").strip()
    values["aftersale_window_days"] = window[:12]  # shown back as typed; the service reads all of it

    def save():
        category = categories.update(_actor(), category_id, values["name"], values["icon"] or None)
        if window_sent:
            category = categories.set_aftersale_window(_actor(), category_id, window)
        return category

    return _run(save, f"edit-{category_id}", values, lambda c: _("已保存类目「%(name)s」", name=c.name))


@bp.post("/categories/<int:category_id>/fee")
@admin_required("fees.edit")
def categories_set_fee(category_id: int):
    categories.get(category_id)
    raw = request.form.get("platform_fee") or ""
    values = {"platform_fee": raw.strip()[:12]}  # shown back as typed; the service reads all of it
    return _run(lambda: categories.set_platform_fee(_actor(), category_id, raw), f"fee-{category_id}", values,
                lambda c: _("已保存「%(name)s」的服务费率", name=c.name))


@bp.post("/categories/<int:category_id>/move")
@admin_required("catalog.manage")
def categories_move(category_id: int):
    categories.get(category_id)
    direction = "up" if request.form.get("direction") == "up" else "down"
    return _run(lambda: categories.move(_actor(), category_id, direction), f"edit-{category_id}", {},
                lambda c: _("已上移「%(name)s」", name=c.name) if direction == "up"
                else _("已下移「%(name)s」", name=c.name))


@bp.post("/categories/<int:category_id>/active")
@admin_required("catalog.manage")
def categories_set_active(category_id: int):
    categories.get(category_id)
    active = request.form.get("active") == "1"
    return _run(lambda: categories.set_active(_actor(), category_id, active), f"edit-{category_id}", {},
                lambda c: _("已启用「%(name)s」及其下级类目", name=c.name) if active
                else _("已停用「%(name)s」，其下级类目和商品在商城中隐藏", name=c.name))
