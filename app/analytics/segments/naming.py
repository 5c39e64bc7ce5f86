"""What a segment is called and how it is described, from its centroid in the figures' own
units (`profile_of`: the members' mean orders, spend, days since the last order, views...).

The rules, tried in this order (`kind_of`; days with the default 180-day window):

Mostly people who bought nothing in the window (fewer than half bought):
1. views at least the median of all the scope's customers (and at least one) → 只逛不买
2. half a cart add or more on average → 潜力客户 (they put things in the cart, no order)
3. otherwise → 低频访客

Mostly buyers:
4. their last order DORMANT_DAYS (60) days ago or more on average → 沉睡老客
5. their first order with the scope ever NEW_DAYS (30) days ago or less, and fewer than
   1.5 orders on average → 新客
6. last order ACTIVE_DAYS (30) days ago or less, 2 orders or more, and spend at least
   the mean spend of all the scope's buyers → 高价值活跃
7. otherwise → 普通客户

Names are unique within a run: when several segments get the same name, they are told
apart by spend (buyers) or views (the others), highest first: two become （消费较高） and
（消费较低） (（浏览较多） / （浏览较少）), three add （居中）, more are numbered （1）（2）...
"""
from __future__ import annotations

import math
from collections import defaultdict
from enum import StrEnum

import numpy as np
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.analytics.segments.features import OTHER_CATEGORY, Features
from app.core.money import fen_to_yuan

ACTIVE_DAYS = 30
DORMANT_DAYS = 60
NEW_DAYS = 30
TASTE_MIN_SHARE = 0.3  # a top-level category taking this share of a segment is named as its taste


class Kind(StrEnum):
    HIGH_VALUE = "high_value"
    NEW = "new"
    DORMANT = "dormant"
    REGULAR = "regular"
    BROWSER = "browser"
    POTENTIAL = "potential"
    LIGHT = "light"


BUYER_KINDS = (Kind.HIGH_VALUE, Kind.NEW, Kind.DORMANT, Kind.REGULAR)

# The stored names (the source language) and what people see (translated).
NAMES = {Kind.HIGH_VALUE: "高价值活跃", Kind.NEW: "新客", Kind.DORMANT: "沉睡老客", Kind.REGULAR: "普通客户",
         Kind.BROWSER: "只逛不买", Kind.POTENTIAL: "潜力客户", Kind.LIGHT: "低频访客"}
LABELS = {Kind.HIGH_VALUE: _l("高价值活跃"), Kind.NEW: _l("新客"), Kind.DORMANT: _l("沉睡老客"),
          Kind.REGULAR: _l("普通客户"), Kind.BROWSER: _l("只逛不买"), Kind.POTENTIAL: _l("潜力客户"),
          Kind.LIGHT: _l("低频访客")}
_SPEND_SUFFIXES = {2: ("消费较高", "消费较低"), 3: ("消费较高", "消费居中", "消费较低")}
_VIEW_SUFFIXES = {2: ("浏览较多", "浏览较少"), 3: ("浏览较多", "浏览居中", "浏览较少")}
_SUFFIX_LABELS = {"消费较高": _l("消费较高"), "消费居中": _l("消费居中"), "消费较低": _l("消费较低"),
                  "浏览较多": _l("浏览较多"), "浏览居中": _l("浏览居中"), "浏览较少": _l("浏览较少")}


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def profile_of(features: Features, members: np.ndarray) -> dict:
    """A segment's centroid in its figures' own units (the members' means; the days since
    the last and first order over the members who bought), and its leading categories."""
    rows = features.values[members]
    orders, money = rows[:, 1], rows[:, 2]
    bought = orders >= 1
    first = features.first_order_days[members][bought]
    first = first[~np.isnan(first)]
    mix = features.mix[members].mean(axis=0) if features.mix.shape[1] else np.zeros(0)
    tastes = sorted(((float(share), cid, name) for (cid, name), share in zip(features.categories, mix, strict=True)
                     if share > 0), reverse=True)[:2]
    return {
        "customers": int(len(members)),
        "recency_days": round(float(rows[:, 0].mean()), 1),
        "last_order_days": None if not bought.any() else round(float(rows[bought, 0].mean()), 1),
        "first_order_days": None if not len(first) else round(float(first.mean()), 1),
        "orders": round(float(orders.mean()), 2),
        "buyers_share": round(float(bought.mean()), 3),
        "monetary_fen": int(round(float(money.mean()))),
        "aov_fen": int(round(float(money.sum() / orders.sum()))) if orders.sum() else 0,
        "views": round(float(rows[:, 3].mean()), 1),
        "dwell_s": round(float(rows[:, 4].mean()), 1),
        "cart_adds": round(float(rows[:, 5].mean()), 2),
        "categories": [{"id": cid, "name": name, "share": round(share, 3)} for share, cid, name in tastes],
    }


def reference_of(features: Features) -> dict:
    """The scope's yardsticks the rules compare a segment with."""
    views, orders, money = features.column("views"), features.column("orders"), features.column("monetary_fen")
    buyers = money[orders >= 1]
    return {"median_views": float(np.median(views)) if len(views) else 0.0,
            "buyer_mean_monetary_fen": float(buyers.mean()) if len(buyers) else 0.0}


def kind_of(profile: dict, reference: dict) -> Kind:
    """The rules of the module docstring, in order."""
    if profile["buyers_share"] < 0.5:
        if profile["views"] >= max(reference["median_views"], 1):
            return Kind.BROWSER
        if profile["cart_adds"] >= 0.5:
            return Kind.POTENTIAL
        return Kind.LIGHT
    last = profile["last_order_days"] if profile["last_order_days"] is not None else math.inf
    if last >= DORMANT_DAYS:
        return Kind.DORMANT
    first = profile["first_order_days"]
    if first is not None and first <= NEW_DAYS and profile["orders"] < 1.5:
        return Kind.NEW
    if last <= ACTIVE_DAYS and profile["orders"] >= 2 and profile["monetary_fen"] >= reference["buyer_mean_monetary_fen"]:
        return Kind.HIGH_VALUE
    return Kind.REGULAR


def name_all(profiles: list[dict], reference: dict) -> list[tuple[Kind, int, str]]:
    """(kind, variant, stored name) for each profile, names unique within the list:
    variant 0 when the kind is alone, else 1, 2... by spend (buyers) or views, highest first."""
    kinds = [kind_of(p, reference) for p in profiles]
    groups: dict[Kind, list[int]] = defaultdict(list)
    for i, kind in enumerate(kinds):
        groups[kind].append(i)
    out: list[tuple[Kind, int, str]] = [(kind, 0, NAMES[kind]) for kind in kinds]
    for kind, members in groups.items():
        if len(members) < 2:
            continue
        measure = "monetary_fen" if kind in BUYER_KINDS else "views"
        ranked = sorted(members, key=lambda i: (-profiles[i][measure], i))
        for rank, i in enumerate(ranked, start=1):
            out[i] = (kind, rank, f"{NAMES[kind]}（{_suffix(kind, rank, len(members))}）")
    return out


def _suffix(kind: Kind, rank: int, of: int) -> str:
    ladder = (_SPEND_SUFFIXES if kind in BUYER_KINDS else _VIEW_SUFFIXES).get(of)
    return ladder[rank - 1] if ladder else str(rank)


def label(kind: str, variant: int = 0, of: int = 0) -> str:
    """What people see for a segment, in their language (`of`: how many share its kind)."""
    name = str(LABELS.get(kind, kind))
    if not variant:
        return name
    suffix = _suffix(Kind(kind), variant, of) if kind in LABELS else str(variant)
    return f"{name}（{_SUFFIX_LABELS.get(suffix, suffix)}）"


def category_name(category: dict) -> str:
    return _("其他") if category.get("id") == OTHER_CATEGORY else category.get("name", "")


def profile_line(profile: dict) -> str:
    """One line for people: "平均 3.2 单，客单价 ¥128.00，最近一次 12 天前，偏好 数码家电"."""
    if profile.get("buyers_share", 0) >= 0.5:
        parts = [_("平均 %(orders).1f 单", orders=profile["orders"]),
                 _("客单价 ¥%(aov)s", aov=fen_to_yuan(profile["aov_fen"]))]
        if profile.get("last_order_days") is not None:
            parts.append(_("最近一次 %(days)d 天前", days=round(profile["last_order_days"])))
    else:
        parts = [_("平均浏览 %(views).1f 次", views=profile["views"]),
                 _("停留 %(minutes).1f 分钟", minutes=profile["dwell_s"] / 60),
                 _("加购 %(carts).1f 次", carts=profile["cart_adds"]), _("多数未下单")]
    tastes = [c for c in profile.get("categories", []) if c["share"] >= TASTE_MIN_SHARE]
    if tastes:
        parts.append(_("偏好%(names)s", names="、".join(category_name(c) for c in tastes)))
    return _("，").join(parts)
