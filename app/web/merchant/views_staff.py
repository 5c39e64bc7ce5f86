"""Staff (owner only): invite a registered user by phone, remove staff. Both work
as HTMX row swaps and as plain form posts."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.merchants import shops
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required


def _page(phone: str = "", error: str | None = None, status: int = 200):
    return render_template("merchant/staff/index.html", merchant=g.merchant, members=shops.staff_of(g.merchant.id),
                           phone=phone, error=error), status


@bp.get("/staff")
@merchant_required(owner_only=True)
def staff():
    return _page()


@bp.post("/staff/invite")
@merchant_required(owner_only=True)
def staff_invite():
    phone = request.form.get("phone", "").strip()
    try:
        with transaction():
            member = shops.invite_staff(current_user._get_current_object(), g.merchant.id, phone)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        error = (exc.fields or {}).get("phone") or exc.message
        if is_htmx():
            # Show the message under the field instead of inserting a row.
            response = with_toast(render_template("merchant/staff/_invite_form.html", phone=phone, error=error), error, "danger")
            response.headers["HX-Retarget"] = "#invite-form"
            response.headers["HX-Reswap"] = "outerHTML"
            return response
        return _page(phone, error, status=422)
    message = _("已添加店员 %(name)s", name=member.user.display_name)
    if is_htmx():
        rows = render_template("merchant/staff/_row.html", m=member)
        form = render_template("merchant/staff/_invite_form.html", phone="", error=None, oob=True)
        gone_hint = '<div id="staff-empty" hx-swap-oob="delete"></div>'
        return with_toast(rows + form + gone_hint, message)
    flash(message, "success")
    return redirect(url_for("merchant.staff"))


@bp.post("/staff/<int:member_id>/remove")
@merchant_required(owner_only=True)
def staff_remove(member_id: int):
    """Only a member of the current shop can be removed here; any other id is a 404."""
    with transaction():
        shops.remove_staff(current_user._get_current_object(), g.merchant.id, member_id)
    message = _("已移除店员")
    if is_htmx():
        return with_toast("", message)
    flash(message, "success")
    return redirect(url_for("merchant.staff"))
