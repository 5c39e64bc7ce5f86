"""What the two sales dashboards show (merchant 数据 for one shop, admin 销售数据 for the
platform), built from `app.analytics.figures` for a range of the picker (`date_ranges`):
the tiles with their change against the previous period, the tables, and the charts'
data, which the page carries as JSON for app/static/js/stats.js to draw.

A fixed number of queries whatever the range's length or the number of products: each
figure is one grouped query over the rollups.
"""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _

from app.analytics import figures, rollups
from app.core.htmx import is_htmx
from app.web.date_ranges import PRESET_LABELS, DateRange

TOP = 10
# (figure, in fen?, is a rise good news?)
TILES = (
    ("paid_orders", False, True),
    ("units", False, True),
    ("gmv_fen", True, True),
    ("refund_fen", True, False),
    ("net_fen", True, True),
    ("aov_fen", True, True),
    ("paying_buyers", False, True),
    ("commission_fen", True, False),  # a cost to the shop: rising shows red
)


def change_of(comparison: figures.Comparison, name: str, up_is_good: bool = True) -> dict:
    """The change against the previous period as the tile shows it: an arrow and a percentage,
    green when it is good news (refunds going up is not), or "—" when there was nothing before."""
    fraction = comparison.change(name)
    if fraction is None:
        return {"text": "—", "direction": None, "tone": "muted"}
    if fraction == 0:
        return {"text": "0%", "direction": None, "tone": "muted"}
    up = fraction > 0
    return {"text": f"{abs(fraction) * 100:.1f}%", "direction": "up" if up else "down",
            "tone": "success" if up == up_is_good else "danger"}


def tiles(comparison: figures.Comparison) -> list[dict]:
    labels = {"paid_orders": _("付款订单"), "units": _("销售件数"), "gmv_fen": _("成交金额"),
              "refund_fen": _("退款金额"), "net_fen": _("净销售额"), "aov_fen": _("客单价"),
              "paying_buyers": _("付款人数"), "commission_fen": _("佣金支出")}
    out = []
    for name, money, up_is_good in TILES:
        out.append({"key": name, "label": labels[name], "money": money,
                    "value": getattr(comparison.current, name), "previous": getattr(comparison.previous, name),
                    "change": change_of(comparison, name, up_is_good)})
    out.append({"key": "buyers", "label": _("新客 / 老客"), "money": False, "pair": True,
                "value": comparison.current.new_buyers, "other": comparison.current.returning_buyers,
                "change": change_of(comparison, "new_buyers"),
                "other_change": change_of(comparison, "returning_buyers")})
    return out


def _yuan(fen: int) -> float:
    return round(fen / 100, 2)


# The province outlines (ECharts 4's china.json) are named without the administrative
# suffix (广东, 内蒙古, 香港); addresses carry the full name (广东省, 内蒙古自治区).
PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def map_name(province: str) -> str:
    for suffix in PROVINCE_SUFFIXES:
        if province.endswith(suffix) and len(province) > len(suffix):
            return province[:-len(suffix)]
    return province


def weekdays() -> list[str]:
    return [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")]


def build(rng: DateRange, merchant_id: int | None = None) -> dict:
    """Everything the page shows for the shop `merchant_id` (the platform when None)."""
    comparison = figures.compare(rng.first, rng.last, merchant_id)
    days = figures.daily(rng.first, rng.last, merchant_id)
    by_units = figures.top_products(rng.first, rng.last, merchant_id, by="units", limit=TOP)
    by_revenue = figures.top_products(rng.first, rng.last, merchant_id, by="revenue_fen", limit=TOP)
    regions = figures.provinces(rng.first, rng.last, merchant_id)
    times = figures.purchase_times(rng.first, rng.last, merchant_id)
    shops = figures.top_merchants(rng.first, rng.last, limit=TOP) if merchant_id is None else []
    steps = figures.funnel(rng.first, rng.last, merchant_id)
    keywords = figures.search_keywords(rng.first, rng.last, limit=TOP) if merchant_id is None else None

    region_total = sum(r["gmv_fen"] for r in regions)
    for region in regions:
        region["share"] = region["gmv_fen"] / region_total if region_total else 0.0
    step_names = {"view": _("浏览商品"), "cart": _("加入购物车"), "order": _("提交订单"), "pay": _("付款")}
    cells = [[hour, weekday, n] for weekday, row in enumerate(times["weekday_hour"]) for hour, n in enumerate(row) if n]
    charts = {
        "labels": {"gmv": _("成交金额（元）"), "orders": _("付款订单"), "units": _("销售件数"),
                   "revenue": _("销售额（元）"), "purchases": _("付款订单"), "share": _("成交金额占比"),
                   "yuan": _("元"), "hour": _("时"), "day": _("日"), "map_gmv": _("成交金额（元）"),
                   "map_orders": _("付款订单")},
        "daily": {"x": [d["day"].strftime("%m-%d") for d in days], "gmv": [_yuan(d["gmv_fen"]) for d in days],
                  "orders": [d["paid_orders"] for d in days]},
        "units": {"names": [p["title"] for p in by_units], "values": [p["units"] for p in by_units]},
        "revenue": {"names": [p["title"] for p in by_revenue], "values": [_yuan(p["revenue_fen"]) for p in by_revenue]},
        "heatmap": {"weekdays": weekdays(), "cells": cells, "max": max((c[2] for c in cells), default=0)},
        "month_day": {"x": [str(n) for n in range(1, 32)], "y": times["month_day"]},
        "share": [{"name": s["name"], "value": _yuan(s["gmv_fen"])} for s in shops],
        "funnel": [{"name": step_names[s["step"]], "value": s["visitors"]} for s in steps],
        "map": {"areas": [{"name": map_name(r["province"]), "value": _yuan(r["gmv_fen"]), "orders": r["paid_orders"]}
                          for r in regions if r["province"] and r["province"] != rollups.UNKNOWN_PROVINCE],
                "max": _yuan(max((r["gmv_fen"] for r in regions), default=0)),
                "geo": url_for("static", filename="vendor/echarts/china.json")},
    }
    if merchant_id is None:
        others = comparison.current.gmv_fen - sum(s["gmv_fen"] for s in shops)
        if others > 0:
            charts["share"].append({"name": _("其他店铺"), "value": _yuan(others)})
    empty = {
        "daily": not any(d["paid_orders"] or d["gmv_fen"] for d in days),
        "units": not by_units, "revenue": not by_revenue, "heatmap": not cells,
        "month_day": not any(times["month_day"]), "share": not shops, "provinces": not regions,
        "map": not charts["map"]["areas"],
        "funnel": not any(s["visitors"] for s in steps),
    }
    return {"rng": rng, "presets": PRESET_LABELS, "comparison": comparison, "tiles": tiles(comparison),
            "charts": charts, "empty": empty, "regions": regions, "shops": shops, "platform": merchant_id is None,
            "funnel": steps, "keywords": keywords}


def render(template: str, endpoint: str, rng: DateRange, merchant_id: int | None = None, **context) -> str:
    """The whole page, or only its body for HTMX (the range picker swaps the body)."""
    data = build(rng, merchant_id)
    if is_htmx() and not request.headers.get("HX-History-Restore-Request"):
        template = "backoffice/stats/_body.html"
    return render_template(template, endpoint=endpoint, **data, **context)
