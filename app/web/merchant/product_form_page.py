"""The product form page of the merchant console: reading the posted form (the spec
editor, the SKU matrix rows `sku[<combination>][<field>]`, images kept from a refused
post), turning it into the product service's typed input (yuan and percent strings to
fen and basis points, through `app.catalog.product_form`), and drawing the page again
with the problems named."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import g, render_template, request
from flask_babel import gettext as _

from app.catalog import categories, product_form
from app.catalog.models import Product, ProductEvent, Sku
from app.catalog.policies import Side, actions_for
from app.catalog.product_input import ProductInput, check, clean_specs, matrix, spec_key
from app.catalog.states import MAX_SPEC_DIMENSIONS
from app.core import storage
from app.core.bounds import to_int
from app.core.clock import to_local
from app.core.errors import Conflict, DomainError, ValidationError
from app.core.money import fen_to_yuan
from app.distribution import rules as distribution_rules
from app.extensions import db

SKU_FIELD = re.compile(r"^sku\[(?P<key>[^\]]*)\]\[(?P<field>[a-z_]+)\]$")
SKU_FIELDS = ("price", "promotion_price", "stock", "code", "low_stock_threshold", "expected_stock")
STAGED_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")
IMAGE_CODES = ("too_many_images", "empty_file", "file_too_large", "image_too_large", "not_an_image")


def category_options(leaves_only: bool = True) -> list[dict]:
    """Flattened tree: [{"id", "label", "leaf", "depth"}] (leaves selectable in the form)."""
    out: list[dict] = []

    def walk(nodes, path):
        for node in nodes:
            label = " / ".join([*path, node["name"]])
            leaf = not node["children"]
            out.append({"id": node["id"], "label": label, "name": node["name"], "leaf": leaf, "depth": node["depth"]})
            walk(node["children"], [*path, node["name"]])

    walk(categories.tree(active_only=True), [])
    return out


# --- reading the posted form ---------------------------------------------------------

def _key_values(key: str) -> dict[str, str]:
    out = {}
    for part in key.split("|") if key else []:
        name, _sep, value = part.partition(":")
        out[name] = value
    return out


def _read_specs(form) -> list[dict]:
    specs = []
    for i in range(MAX_SPEC_DIMENSIONS + 1):
        if f"spec-{i}-name" not in form and f"spec-{i}-values" not in form:
            continue
        raw = form.get(f"spec-{i}-values", "")
        values = [v.strip() for v in re.split(r"[,，、\n]", raw) if v.strip()]
        specs.append({"name": form.get(f"spec-{i}-name", "").strip(), "values": values})
    return specs


def _read_sku_rows(form) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for name, value in form.items():
        match = SKU_FIELD.match(name)
        if match:
            rows.setdefault(match["key"], {})[match["field"]] = value.strip()
    return rows


def _spec_action(specs: list[dict], action: str) -> list[dict]:
    if action == "add" and len(specs) < MAX_SPEC_DIMENSIONS:
        specs = [*specs, {"name": "", "values": []}]
    elif action.startswith("remove:"):
        try:
            index = int(action.split(":", 1)[1])
        except ValueError:
            return specs
        specs = [s for i, s in enumerate(specs) if i != index]
    return specs


def form_from_request() -> dict:
    form = request.form
    return {"title": form.get("title", ""), "subtitle": form.get("subtitle", ""),
            "category_id": form.get("category_id", ""), "description": form.get("description", ""),
            "tags": form.get("tags", ""), "on_promotion": bool(form.get("on_promotion")),
            "promotion_starts_at": form.get("promotion_starts_at", ""),
            "promotion_ends_at": form.get("promotion_ends_at", ""),
            "specs": _spec_action(_read_specs(form), form.get("spec_action", "")), "skus": _read_sku_rows(form),
            "distribution_enabled": "0" if form.get("distribution_enabled") == "0" else "1",
            **{f"commission_l{n}_percent": form.get(f"commission_l{n}_percent", "").strip()[:10] for n in (1, 2, 3)}}


def _ids(name: str) -> list[int]:
    return [i for i in (to_int(raw, 1) for raw in request.form.getlist(name)) if i is not None]


@dataclass
class Post:
    """One post of the form: what was typed, and what to do with the images."""

    data: dict
    image_order: list[int] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)
    staged: list[str] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)  # {"name", "content", "staged"?}
    submit: bool = False
    redraw: bool = False  # the no-JS spec editor: redraw the form, save nothing

    @classmethod
    def read(cls) -> Post:
        post = cls(data=form_from_request(), image_order=_ids("image_ids"), removed=set(_ids("remove_image")),
                   staged=request.form.getlist("staged"), submit=request.form.get("submit") == "1",
                   redraw=bool(request.form.get("spec_action")))
        if not post.redraw:
            unstaged = set(request.form.getlist("unstage"))
            post.staged = [n for n in post.staged if n not in unstaged]
            drop_staged(sorted(unstaged))
            post.files = _read_staged(post.staged) + [{"name": f.filename, "content": f.read()}
                                                      for f in request.files.getlist("images") if f and f.filename]
        return post


# --- the SKU matrix and the service's input ---------------------------------------------

def existing_skus(product: Product | None) -> dict[str, Sku]:
    return {s.spec_key: s for s in product.skus if s.active} if product is not None else {}


def matrix_rows(specs: list[dict], posted: dict[str, dict],
                existing: dict[str, Sku]) -> tuple[list[dict], str | None]:
    """The SKU rows for the current specs: typed values kept for combinations that
    still exist (or that grew from a row typed before a dimension was added)."""
    try:
        cleaned = clean_specs(specs)
    except ValidationError as exc:
        return [], exc.fields.get("specs") or exc.message
    rows = []
    for combo in matrix(cleaned):
        key = spec_key(combo, cleaned)
        values = posted.get(key)
        if values is None:
            items = set(combo.items())
            for other_key, other in posted.items():
                other_items = set(_key_values(other_key).items())
                if other_items and (other_items <= items or items <= other_items):
                    values = {f: v for f, v in other.items() if f != "expected_stock"}
                    break
        values = dict(values or {})
        sku = existing.get(key)
        if sku is not None:
            values.setdefault("expected_stock", str(sku.stock))
            values.setdefault("stock", str(sku.stock))
        elif values.get("expected_stock") and key not in existing:
            values.pop("expected_stock", None)
        rows.append({"key": key, "spec_values": combo, "label": " / ".join(combo.values()) or _("默认规格"),
                     "values": values, "existing": sku is not None})
    return rows, None


def to_input(data: dict, product: Product | None) -> tuple[ProductInput, dict[str, str]]:
    """The form as the service's typed input, and the problems found reading it
    (unreadable amounts and counts, a broken spec editor)."""
    rows, spec_error = matrix_rows(data["specs"], data["skus"], existing_skus(product))
    skus = []
    for row in rows:
        sku = {"spec_values": row["spec_values"], **{f: row["values"].get(f, "") for f in SKU_FIELDS}}
        if not row["existing"]:
            sku["expected_stock"] = None
        skus.append(sku)
    typed, unreadable = product_form.parse({**{k: v for k, v in data.items() if k != "skus"}, "skus": skus})
    if spec_error:
        unreadable["specs"] = spec_error
    return typed, unreadable


def all_problems(typed: ProductInput, unreadable: dict) -> dict[str, str]:
    """Every problem of the input at once (what reading found and what the check finds)."""
    try:
        check(typed, unreadable)
    except ValidationError as exc:
        return dict(exc.fields or {})
    return dict(unreadable)


# --- images kept from a refused post ----------------------------------------------------------

def staging_folder() -> str:
    return f"staging/merchant-{g.merchant.id}"


def _read_staged(names: list[str]) -> list[dict]:
    """Images uploaded with a form that was refused, kept for the next try (this shop's only)."""
    out = []
    for name in names:
        if not STAGED_NAME.match(name):
            continue
        try:
            path, _ctype = storage.open_stored(f"{staging_folder()}/{name}")
        except DomainError:
            continue
        out.append({"name": name, "content": path.read_bytes(), "staged": name})
    return out


def stage(files: list[dict]) -> list[str]:
    """Keep the valid new images of a refused form; returns the staged names."""
    names = []
    for f in files:
        if f.get("staged"):
            names.append(f["staged"])
            continue
        try:
            stored = storage.save_image(f["content"], staging_folder())
        except ValidationError:
            continue
        names.append(stored.key.rsplit("/", 1)[-1])
    return names


def drop_staged(names: list[str]) -> None:
    for name in names:
        if STAGED_NAME.match(name):
            storage.delete_stored(f"{staging_folder()}/{name}")


def image_errors(files) -> dict:
    for f in files:
        try:
            storage.check_image(f["content"])
        except ValidationError as exc:
            return {"images": _("「%(n)s」：%(m)s", n=f["name"], m=exc.message)}
    return {}


# --- drawing the page ---------------------------------------------------------------------

def _percent(bp: int | None) -> str:
    return "" if bp is None else f"{bp / 100:g}"


def _distribution_from_product(product: Product | None) -> dict:
    if product is None:
        return {"distribution_enabled": "1", **{f"commission_l{n}_percent": "" for n in (1, 2, 3)}}
    return {"distribution_enabled": "1" if product.distribution_enabled else "0",
            **{f"commission_l{n}_percent": _percent(getattr(product, f"commission_l{n}_bp")) for n in (1, 2, 3)}}


def form_from_product(product: Product | None) -> dict:
    if product is None:
        return {"title": "", "subtitle": "", "category_id": "", "description": "", "tags": "", "on_promotion": False,
                "promotion_starts_at": "", "promotion_ends_at": "", "specs": [{"name": "", "values": []}],
                "skus": {}, **_distribution_from_product(None)}

    def local(value):
        return to_local(value).strftime("%Y-%m-%dT%H:%M") if value else ""

    skus = {}
    for s in product.skus:
        if not s.active:
            continue
        skus[s.spec_key] = {
            "price": fen_to_yuan(s.price_fen), "stock": str(s.stock), "expected_stock": str(s.stock),
            "promotion_price": fen_to_yuan(s.promotion_price_fen) if s.promotion_price_fen else "",
            "code": s.code or "", "low_stock_threshold": str(s.low_stock_threshold),
        }
    return {"title": product.title, "subtitle": product.subtitle, "category_id": str(product.category_id),
            "description": product.description_html, "tags": ", ".join(product.tags or []),
            "on_promotion": product.on_promotion, "promotion_starts_at": local(product.promotion_starts_at),
            "promotion_ends_at": local(product.promotion_ends_at),
            "specs": [dict(s) for s in product.specs] or [], "skus": skus, **_distribution_from_product(product)}


def render_form(product: Product | None, data: dict, errors: dict | None = None, message: str | None = None,
                status: int = 200, image_order: list[int] | None = None, removed: set[int] | None = None,
                staged: list[str] | None = None):
    errors = errors or {}
    rows, spec_error = matrix_rows(data["specs"], data["skus"], existing_skus(product))
    if spec_error and "specs" not in errors:
        errors = {**errors, "specs": spec_error}
    images = list(product.images) if product is not None else []
    if image_order:
        position = {image_id: i for i, image_id in enumerate(image_order)}
        images.sort(key=lambda img: position.get(img.id, len(position)))
    events = list(db.session.scalars(sa.select(ProductEvent).where(ProductEvent.product_id == product.id)
                                     .order_by(ProductEvent.id.desc()).limit(20))) if product is not None else []
    return render_template(
        "merchant/products/form.html", product=product, data=data, rows=rows, errors=errors, message=message,
        events=events, staged=staged or [], category_options=category_options(), images=images,
        removed=removed or set(), actions=actions_for(product, None, Side.MERCHANT) if product else (),
        max_dimensions=MAX_SPEC_DIMENSIONS, distribution_rules=distribution_rules.current(),
        distribution_cap=distribution_rules.max_total_bp(),
    ), status


def render_refused(product: Product | None, post: Post, errors: dict, message: str, status: int):
    """The form again, with the problems named and the new images kept for the next try."""
    return render_form(product, post.data, errors, message, status, post.image_order, post.removed,
                       stage(post.files))


def conflict_errors(product: Product | None, post: Post, exc: Conflict) -> tuple[dict, str]:
    """A refused save: the stock of a SKU changed meanwhile (which ones, and their stock now)."""
    if exc.code != "stock_changed" or product is None:
        return {}, exc.message
    errors = {}
    for sku in product.skus:
        expected = post.data["skus"].get(sku.spec_key, {}).get("expected_stock")
        if expected and expected != str(sku.stock):
            errors[f"sku.{sku.spec_key}.stock"] = _("库存已变化，现为 %(n)d", n=sku.stock)
    return errors, _("库存已变化（有新的订单或其他人修改了库存），你的修改没有保存。请核对后重新填写。")


def invalid_errors(exc: ValidationError) -> dict:
    """The service's field problems as the form shows them."""
    errors = {key: (_("请填写促销价") if key.endswith(".promotion_price") and text == _("请填写价格") else text)
              for key, text in (exc.fields or {}).items()}
    code = str(exc.code or "")
    if code in IMAGE_CODES or not errors:
        errors.setdefault("images" if "image" in code or "file" in code else "form", exc.message)
    return errors

