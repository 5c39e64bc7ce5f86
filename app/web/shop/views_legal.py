"""用户协议 and 隐私政策: the texts every registration asks the person to agree to
(accounts.consent records which version). Public pages, linked from registration,
the shop's footer and 账号与安全."""
from __future__ import annotations

from flask import render_template

from app.accounts import consent
from app.web.shop.blueprint import bp


@bp.get("/terms")
def terms():
    return render_template("shop/legal/terms.html", version=consent.TERMS_VERSION)


@bp.get("/privacy")
def privacy():
    return render_template("shop/legal/privacy.html", version=consent.TERMS_VERSION)
