"""Jinja filters and globals shared by every surface."""
from __future__ import annotations

from babel.numbers import format_compact_decimal
from flask import Flask, g, has_request_context, request, url_for
from flask_babel import format_datetime, get_locale
from flask_login import current_user

from app import labels as _every_domains_labels  # noqa: F401  (declares them all)
from app.accounts import policies
from app.accounts.validation import format_phone
from app.core import labels, money
from app.core.clock import to_local
from app.core.urls import external_url
from app.notifications import services as notifications
from app.orders.cart import count_lines

# Pages that belong under the 我的 tab of the shop's tab bar.
ME_TAB_ENDPOINTS = ("shop.me", "shop.profile", "shop.security", "shop.address", "shop.message", "shop.bind",
                    "shop.unbind", "distributor.")
TAB_ENDPOINTS = {"shop.home": "home", "shop.categories": "categories", "shop.cart": "cart"}
# 我的订单, 售后 and their pages sit under 我的 too.
ORDER_ENDPOINT_PREFIXES = ("shop.order", "shop.review", "shop.pay", "shop.aftersale")


def shop_tab(endpoint: str | None) -> str | None:
    """Which tab of the shop's tab bar a page belongs to (None: no tab lit)."""
    if not endpoint:
        return None
    if endpoint in TAB_ENDPOINTS:
        return TAB_ENDPOINTS[endpoint]
    return "me" if endpoint.startswith(ME_TAB_ENDPOINTS + ORDER_ENDPOINT_PREFIXES) else None


def compact(n: int) -> str:
    """Big counts: 1.2万 in Chinese, 12K in English."""
    locale = str(get_locale() or "zh_Hans_CN")
    if locale.startswith("zh"):
        return money.compact_count(n)
    return format_compact_decimal(n, locale=locale, fraction_digits=1)


def local_dt(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if value is None:
        return ""
    return format_datetime(to_local(value), fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["yuan"] = money.format_yuan
    app.jinja_env.filters["compact"] = compact
    app.jinja_env.filters["dt"] = local_dt
    app.jinja_env.filters["phone"] = format_phone  # {{ x|phone }} or {{ x|phone(masked=True) }}
    app.jinja_env.globals["status_label"] = labels.status_label
    app.jinja_env.globals["status_badge"] = labels.status_badge
    app.jinja_env.globals["status_tag"] = labels.status_tag
    app.jinja_env.globals["split_yuan"] = money.split_yuan
    app.jinja_env.globals["external_url"] = external_url

    @app.context_processor
    def layout_context():
        def unread_count() -> int:
            return notifications.unread_count(current_user.id) if current_user.is_authenticated else 0

        def cart_count() -> int:
            """The tab bar's cart badge: lines in the signed-in shopper's cart (one query, when drawn)."""
            if not current_user.is_authenticated:
                return 0
            if "cart_count" not in g:  # the tab bar and the product page's action bar share one query
                g.cart_count = count_lines(current_user.id)
            return g.cart_count

        return {
            "unread_count": unread_count,
            "cart_count": cart_count,
            "current_locale": str(get_locale()),
            "can": lambda perm: policies.can(current_user, perm),
            "static_vendor": lambda path: url_for("static", filename=f"vendor/{path}"),
            "request_path": request.path if has_request_context() else "",
            "shop_tab": shop_tab(request.endpoint) if has_request_context() else None,
        }
