"""API keys for ERP integrations (owner only). A new key is shown once, in the
reply to the request that created it; it is never put in the session or a cache."""
from __future__ import annotations

from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.merchants import api_keys as keys_service
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required


def _page(name: str = "", error: str | None = None, created=None, raw_key: str | None = None, status: int = 200):
    return render_template("merchant/api_keys/index.html", merchant=g.merchant, keys=keys_service.keys_of(g.merchant.id),
                           name=name, error=error, created=created, raw_key=raw_key,
                           max_keys=keys_service.MAX_KEYS), status


@bp.get("/api-keys")
@merchant_required(owner_only=True)
def api_keys():
    return _page()


@bp.post("/api-keys")
@merchant_required(owner_only=True)
def api_keys_create():
    name = request.form.get("name", "").strip()
    try:
        with transaction():
            key, raw = keys_service.create_key(current_user._get_current_object(), g.merchant.id, name)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        error = (exc.fields or {}).get("name") or exc.message
        if is_htmx():
            form = render_template("merchant/api_keys/_create_form.html", name=name, error=error)
            response = with_toast(form, error, "danger")
            response.headers["HX-Retarget"] = "#api-key-form"
            response.headers["HX-Reswap"] = "outerHTML"
            return response
        return _page(name, error, status=422)
    message = _("密钥已创建，请立即复制保存")
    if is_htmx():
        html = render_template("merchant/api_keys/_created.html", created=key, raw_key=raw,
                               keys=keys_service.keys_of(g.merchant.id), name="", error=None, oob=True)
        response = with_toast(html, message)
    else:
        flash(message, "success")
        response = make_response(*_page(created=key, raw_key=raw, status=201))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api-keys/<int:key_id>/revoke")
@merchant_required(owner_only=True)
def api_keys_revoke(key_id: int):
    """Only keys of the current shop; any other id is a 404."""
    with transaction():
        key = keys_service.revoke_key(current_user._get_current_object(), g.merchant.id, key_id)
    message = _("密钥「%(name)s」已撤销", name=key.name)
    if is_htmx():
        return with_toast(render_template("merchant/api_keys/_row.html", k=key), message)
    flash(message, "success")
    return redirect(url_for("merchant.api_keys"))
