"""Admin user management (HTMX): search, detail, edit, ban and unban, roles."""
from __future__ import annotations

from datetime import datetime, time

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts import admin_services, policies
from app.accounts.admin_services import FILTER_STATUSES
from app.core.clock import SHANGHAI
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, render, with_toast
from app.core.labels import labels_for
from app.web.admin.blueprint import bp
from app.web.admin.forms import BanForm, RoleForm, UserEditForm
from app.web.auth import admin_required
from app.web.forms import attach_errors


def actor():
    return current_user._get_current_object()


@bp.context_processor
def account_actions_context():
    """The admin acts offered on an account's page come from its policy, not its status."""
    return {"account_actions": lambda user: policies.actions_for(user, current_user)}


@bp.get("/users")
@admin_required("users.view")
def users():
    q = request.args.get("q", "")
    status = request.args.get("status", "")
    page = admin_services.search_users(q, status, request.args.get("page", 1))
    choices = [(s, labels_for("user").label(s)) for s in FILTER_STATUSES]
    return render("admin/users/index.html", "admin/users/_table.html", page=page, q=q, status=status,
                  status_choices=choices)


def _detail(user, edit_form=None, ban_form=None, status=200):
    return render_template(
        "admin/users/detail.html", user=user, facts=admin_services.user_facts(user),
        edit_form=edit_form or UserEditForm(prefix="", data={"nickname": user.nickname, "phone": user.local_phone, "email": user.email}),
        ban_form=ban_form or BanForm(prefix=""), role_form=RoleForm(prefix="", role=user.admin_role),
    ), status


@bp.get("/users/<int:user_id>")
@admin_required("users.view")
def users_detail(user_id: int):
    return _detail(admin_services.get_user(user_id))


def _refused(form, exc: DomainError) -> None:
    """A refusal of a form's change: a 403 goes to the error page; other messages
    stand under their fields, or are flashed when none names a field."""
    if exc.status == 403:
        raise exc
    if not attach_errors(form, exc):
        flash(exc.message, "danger")


def _status_changed(user, message: str):
    """After a ban or an unban: the status block with a toast (htmx) or back to the page."""
    if is_htmx():
        return with_toast(render_template("admin/users/_status.html", user=user), message)
    flash(message, "success")
    return redirect(url_for("admin.users_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/edit")
@admin_required("users.edit")
def users_edit(user_id: int):
    user = admin_services.get_user(user_id)
    form = UserEditForm(prefix="")
    if form.validate_on_submit():
        try:
            with transaction():
                admin_services.update_user(actor(), user, form.nickname.data, form.phone.data, form.email.data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("已保存"), "success")
            return redirect(url_for("admin.users_detail", user_id=user_id))
    return _detail(admin_services.get_user(user_id), edit_form=form, status=422)


@bp.post("/users/<int:user_id>/ban")
@admin_required("users.ban")
def users_ban(user_id: int):
    user = admin_services.get_user(user_id)
    form = BanForm(prefix="")
    if form.validate_on_submit():
        until = None
        if form.until.data:
            until = datetime.combine(form.until.data, time(23, 59, 59), tzinfo=SHANGHAI)
        try:
            with transaction():
                admin_services.ban_user(actor(), user, form.reason.data, until)
        except DomainError as exc:
            _refused(form, exc)
        else:
            return _status_changed(user, _("已封禁 %(name)s", name=user.display_name))
    if is_htmx():
        errors = [e for f in form for e in f.errors]
        return with_toast(render_template("admin/users/_status.html", user=user), errors[0] if errors else _("请检查输入"), "danger")
    return _detail(admin_services.get_user(user_id), ban_form=form, status=422)


@bp.post("/users/<int:user_id>/unban")
@admin_required("users.ban")
def users_unban(user_id: int):
    user = admin_services.get_user(user_id)
    with transaction():
        admin_services.unban_user(actor(), user)
    return _status_changed(user, _("已解封 %(name)s", name=user.display_name))


@bp.post("/users/<int:user_id>/role")
@admin_required("admins.manage")
def users_role(user_id: int):
    user = admin_services.get_user(user_id)
    form = RoleForm(prefix="")
    if form.validate_on_submit():
        with transaction():
            admin_services.set_admin_role(actor(), user, form.role.data)
        flash(_("角色已更新"), "success")
    return redirect(url_for("admin.users_detail", user_id=user_id))
