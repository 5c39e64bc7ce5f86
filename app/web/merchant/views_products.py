"""Products in the merchant console (商品管理): the list with status tabs and
filters, the add/edit form with the spec editor and the SKU matrix (regenerated
over HTMX, or by a plain post of the same form), and the status actions."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.catalog import categories, products
from app.catalog.models import Category, Product, ProductEvent, Sku
from app.catalog.states import MAX_SPEC_DIMENSIONS, STATUS_TABS, ProductStatus
from app.core.bounds import to_int
from app.core.clock import to_local
from app.core.db import transaction
from app.core.errors import Conflict, DomainError, ValidationError
from app.core.htmx import is_htmx, with_toast
from app.core.money import fen_to_yuan
from app.core.pagination import paginate
from app.distribution import rules as distribution_rules
from app.extensions import db
from app.web.merchant import bp
from app.web.merchant.context import merchant_required
from app.web.redirects import safe_next

STATUS_LABELS = {
    ProductStatus.ON_SALE: "出售中", ProductStatus.PENDING_REVIEW: "审核中", ProductStatus.OFF_SALE: "已下架",
    ProductStatus.REJECTED: "被驳回", ProductStatus.DRAFT: "草稿",
}


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def _user():
    return current_user._get_current_object()


# --- the list ----------------------------------------------------------------------

def _low_stock_clause():
    return sa.exists().where(Sku.product_id == Product.id, Sku.active.is_(True), Sku.stock < Sku.low_stock_threshold)


def _filters(source) -> dict:
    status = source.get("status") or ProductStatus.ON_SALE
    category_id = to_int(source.get("category_id"), 1)
    return {"status": status if status in STATUS_TABS else ProductStatus.ON_SALE,
            "q": (source.get("q") or "").strip()[:60], "category_id": category_id,
            "low": source.get("low") == "1", "promo": source.get("promo") == "1"}


def _filtered(f: dict) -> sa.Select:
    stmt = sa.select(Product).where(Product.merchant_id == g.merchant.id)
    if f["q"]:
        stmt = stmt.where(Product.title.contains(f["q"], autoescape=True))
    if f["category_id"]:
        stmt = stmt.where(Product.category_id.in_(categories.leaf_ids_under(f["category_id"])))
    if f["low"]:
        stmt = stmt.where(_low_stock_clause())
    if f["promo"]:
        stmt = stmt.where(Product.on_promotion.is_(True))
    return stmt


def _counts(stmt: sa.Select) -> dict:
    return dict(db.session.execute(
        stmt.with_only_columns(Product.status, sa.func.count(Product.id)).group_by(Product.status)).all())


def _args(f: dict) -> dict:
    return {k: v for k, v in {"status": f["status"], "q": f["q"], "category_id": f["category_id"],
                              "low": "1" if f["low"] else None, "promo": "1" if f["promo"] else None}.items() if v}


@bp.get("/products")
@merchant_required()
def products_list():
    f = _filters(request.args)
    stmt = _filtered(f)
    counts = _counts(stmt)
    stmt = (stmt.where(Product.status == f["status"])
            .options(selectinload(Product.images), selectinload(Product.skus))
            .order_by(Product.updated_at.desc(), Product.id.desc()))
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 20))
    names = dict(db.session.execute(sa.select(Category.id, Category.name).where(
        Category.id.in_({p.category_id for p in page.items} or {0}))).all()) if page.items else {}
    rows = [_row(p, names.get(p.category_id, "")) for p in page.items]
    return render_template("merchant/products/index.html", page=page, rows=rows, status=f["status"], counts=counts,
                           tabs=[(s, status_label(s)) for s in STATUS_TABS], q=f["q"], category_id=f["category_id"],
                           low=f["low"], promo=f["promo"], args=_args(f),
                           category_options=_category_options(leaves_only=False))


def _row(product: Product, category_name: str) -> dict:
    active = [s for s in product.skus if s.active]
    prices = [s.price_fen for s in active]
    thumb = product.main_image.thumb_key.rsplit("/", 1)[-1] if product.main_image else None
    return {
        "p": product, "thumb": thumb, "category": category_name,
        "min_price": min(prices, default=0), "max_price": max(prices, default=0),
        "stock": sum(s.stock for s in active), "low": any(s.stock < s.low_stock_threshold for s in active),
        "sku_count": len(active), "label": status_label(product.status),
    }


def _category_options(leaves_only: bool = True) -> list[dict]:
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


# --- status actions ----------------------------------------------------------------

ACTIONS = {
    "submit": (products.submit, "已提交审核"),
    "withdraw": (products.withdraw, "已撤回，可以继续编辑"),
    "delist": (products.delist, "已下架"),
    "relist": (products.relist, "已重新上架"),
}


@bp.post("/products/<int:product_id>/<any(submit, withdraw, delist, relist):action>")
@merchant_required()
def product_action(product_id: int, action: str):
    service, done = ACTIONS[action]
    back = safe_next(url_for("merchant.products_list"))
    try:
        with transaction():
            product = service(_user(), g.merchant.id, product_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        message = exc.message
        if exc.fields:
            message = "；".join(str(v) for v in exc.fields.values())
        if is_htmx():
            response = with_toast("", message, "danger")
            response.headers["HX-Reswap"] = "none"  # the row stays as it is
            return response
        flash(message, "danger")
        return redirect(back)
    message = _(done)
    if action in ("submit", "relist") and product.status == ProductStatus.PENDING_REVIEW:
        message = _("已提交审核，审核通过后上架")
    elif action in ("submit", "relist") and product.status == ProductStatus.ON_SALE:
        message = _("已上架销售")
    if is_htmx() and request.form.get("row") == "1":
        # The product left this tab: drop its row, redraw the tab counts.
        from urllib.parse import parse_qsl, urlsplit

        f = _filters(dict(parse_qsl(urlsplit(back).query)))
        tabs = render_template("merchant/products/_tabs.html", tabs=[(s, status_label(s)) for s in STATUS_TABS],
                               counts=_counts(_filtered(f)), status=f["status"], args=_args(f), oob=True)
        return with_toast(tabs, message)
    flash(message, "success")
    return redirect(back)


@bp.post("/products/bulk")
@merchant_required()
def products_bulk():
    """The same action on several products; each in its own transaction, refusals counted.
    Any id that is not this shop's product refuses the whole request (404)."""
    action = request.form.get("action", "")
    back = safe_next(url_for("merchant.products_list"))
    if action not in ACTIONS:
        flash(_("请选择批量操作"), "warning")
        return redirect(back)
    ids = sorted({i for i in (to_int(raw, 1) for raw in request.form.getlist("ids")) if i is not None})
    if not ids:
        flash(_("请先勾选商品"), "warning")
        return redirect(back)
    owned = set(db.session.scalars(sa.select(Product.id).where(Product.merchant_id == g.merchant.id,
                                                               Product.id.in_(ids))))
    if owned != set(ids):
        abort(404)
    service, _done = ACTIONS[action]
    done, refused = 0, []
    for product_id in ids:
        try:
            with transaction():
                service(_user(), g.merchant.id, product_id)
            done += 1
        except DomainError as exc:
            refused.append(exc.message)
    if refused:
        flash(_("%(d)d 件成功，%(f)d 件未处理：%(r)s", d=done, f=len(refused), r=refused[0]), "warning")
    else:
        flash(_("%(d)d 件商品已处理", d=done), "success")
    return redirect(back)


# --- the form ----------------------------------------------------------------------

SKU_FIELD = re.compile(r"^sku\[(?P<key>[^\]]*)\]\[(?P<field>[a-z_]+)\]$")
SKU_FIELDS = ("price", "promotion_price", "stock", "code", "low_stock_threshold", "expected_stock")


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


def _matrix_rows(specs: list[dict], posted: dict[str, dict], existing: dict[str, Sku]) -> tuple[list[dict], str | None]:
    """The SKU rows for the current specs: typed values kept for combinations that
    still exist (or that grew from a row typed before a dimension was added)."""
    try:
        cleaned = products.clean_specs(specs)
    except ValidationError as exc:
        return [], exc.fields.get("specs") or exc.message
    rows = []
    for combo in products.matrix(cleaned):
        key = products.spec_key(combo, cleaned)
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


def _percent(bp: int | None) -> str:
    return "" if bp is None else f"{bp / 100:g}"


def _distribution_from_product(product: Product | None) -> dict:
    if product is None:
        return {"distribution_enabled": "1", **{f"commission_l{n}_percent": "" for n in (1, 2, 3)}}
    return {"distribution_enabled": "1" if product.distribution_enabled else "0",
            **{f"commission_l{n}_percent": _percent(getattr(product, f"commission_l{n}_bp")) for n in (1, 2, 3)}}


def _form_from_product(product: Product | None) -> dict:
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


def _form_from_request() -> dict:
    form = request.form
    return {"title": form.get("title", ""), "subtitle": form.get("subtitle", ""),
            "category_id": form.get("category_id", ""), "description": form.get("description", ""),
            "tags": form.get("tags", ""), "on_promotion": bool(form.get("on_promotion")),
            "promotion_starts_at": form.get("promotion_starts_at", ""),
            "promotion_ends_at": form.get("promotion_ends_at", ""),
            "specs": _spec_action(_read_specs(form), form.get("spec_action", "")), "skus": _read_sku_rows(form),
            "distribution_enabled": "0" if form.get("distribution_enabled") == "0" else "1",
            **{f"commission_l{n}_percent": form.get(f"commission_l{n}_percent", "").strip()[:10] for n in (1, 2, 3)}}


def _existing_skus(product: Product | None) -> dict[str, Sku]:
    return {s.spec_key: s for s in product.skus if s.active} if product is not None else {}


def _render_form(product: Product | None, data: dict, errors: dict | None = None, message: str | None = None,
                 status: int = 200, image_order: list[int] | None = None, removed: set[int] | None = None,
                 staged: list[str] | None = None):
    errors = errors or {}
    rows, spec_error = _matrix_rows(data["specs"], data["skus"], _existing_skus(product))
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
        events=events, status_name=status_label, staged=staged or [],
        category_options=_category_options(), images=images, removed=removed or set(),
        status_label=status_label(product.status) if product else None,
        max_dimensions=MAX_SPEC_DIMENSIONS, distribution_rules=distribution_rules.current(),
        distribution_cap=distribution_rules.max_total_bp(),
    ), status


def _load(product_id: int) -> Product:
    try:
        return products.get_for_merchant(g.merchant.id, product_id)
    except DomainError:
        abort(404)


@bp.get("/products/new")
@merchant_required()
def product_new():
    return _render_form(None, _form_from_product(None))


@bp.get("/products/<int:product_id>")
@bp.get("/products/<int:product_id>/edit")
@merchant_required()
def product_edit(product_id: int):
    product = _load(product_id)
    return _render_form(product, _form_from_product(product))


@bp.post("/products/matrix")
@merchant_required()
def product_matrix():
    """The spec editor and the SKU matrix for the posted form (an HTMX partial)."""
    product_id = to_int(request.form.get("product_id"), 1)
    product = _load(product_id) if product_id else None
    data = _form_from_request()
    rows, spec_error = _matrix_rows(data["specs"], data["skus"], _existing_skus(product))
    return render_template("merchant/products/_specs.html", data=data, rows=rows,
                           errors={"specs": spec_error} if spec_error else {}, max_dimensions=MAX_SPEC_DIMENSIONS)


def _service_data(data: dict, rows: list[dict]) -> dict:
    skus = []
    for row in rows:
        values = row["values"]
        sku = {"spec_values": row["spec_values"], **{f: values.get(f, "") for f in SKU_FIELDS}}
        if not sku["low_stock_threshold"]:
            sku["low_stock_threshold"] = None
        if not row["existing"]:
            sku["expected_stock"] = None
        skus.append(sku)
    return {**{k: data[k] for k in ("title", "subtitle", "category_id", "description", "tags", "on_promotion",
                                    "promotion_starts_at", "promotion_ends_at", "specs", "distribution_enabled",
                                    "commission_l1_percent", "commission_l2_percent", "commission_l3_percent")},
            "skus": skus}


STAGED_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")


def _staging_folder() -> str:
    return f"staging/merchant-{g.merchant.id}"


def _read_staged(names: list[str]) -> list[dict]:
    """Images uploaded with a form that was rejected, kept for the next try (this shop's only)."""
    from app.core import storage

    out = []
    for name in names:
        if not STAGED_NAME.match(name):
            continue
        try:
            path, _ctype = storage.open_stored(f"{_staging_folder()}/{name}")
        except DomainError:
            continue
        out.append({"name": name, "content": path.read_bytes(), "staged": name})
    return out


def _stage(files: list[dict]) -> list[str]:
    """Keep the valid new images of a rejected form; returns the staged names."""
    from app.core import storage

    names = []
    for f in files:
        if f.get("staged"):
            names.append(f["staged"])
            continue
        try:
            stored = storage.save_image(f["content"], _staging_folder())
        except ValidationError:
            continue
        names.append(stored.key.rsplit("/", 1)[-1])
    return names


def _drop_staged(names: list[str]) -> None:
    from app.core import storage

    for name in names:
        if STAGED_NAME.match(name):
            storage.delete_stored(f"{_staging_folder()}/{name}")


@bp.get("/products/staged/<name>")
@merchant_required()
def product_staged_image(name: str):
    """Preview of an image kept from a rejected form (the current shop's staging folder only)."""
    from flask import send_file

    from app.core import storage

    if not STAGED_NAME.match(name):
        abort(404)
    path, content_type = storage.open_stored(f"{_staging_folder()}/{name}")
    return send_file(path, mimetype=content_type, max_age=0)


def _image_errors(files) -> dict:
    from app.core import storage

    for f in files:
        try:
            storage.check_image(f["content"])
        except ValidationError as exc:
            return {"images": _("「%(n)s」：%(m)s", n=f["name"], m=exc.message)}
    return {}


@bp.post("/products/new")
@bp.post("/products/<int:product_id>/edit")
@merchant_required()
def product_save(product_id: int | None = None):
    product = _load(product_id) if product_id else None
    data = _form_from_request()
    image_order = [i for i in (to_int(raw, 1) for raw in request.form.getlist("image_ids")) if i is not None]
    removed = {i for i in (to_int(raw, 1) for raw in request.form.getlist("remove_image")) if i is not None}
    if request.form.get("spec_action"):  # the no-JS spec editor: redraw the form, save nothing
        return _render_form(product, data, image_order=image_order, removed=removed,
                            staged=request.form.getlist("staged"))
    unstaged = set(request.form.getlist("unstage"))
    kept = [n for n in request.form.getlist("staged") if n not in unstaged]
    _drop_staged(sorted(unstaged))
    files = _read_staged(kept) + [{"name": f.filename, "content": f.read()}
                                  for f in request.files.getlist("images") if f and f.filename]
    rows, spec_error = _matrix_rows(data["specs"], data["skus"], _existing_skus(product))
    submit = request.form.get("submit") == "1"
    before_status = product.status if product is not None else None
    errors = _image_errors(files)
    if spec_error:
        errors["specs"] = spec_error
    if errors:
        try:  # name the other fields' problems too, in one round
            products.clean(_service_data(data, rows), g.merchant.id)
        except ValidationError as exc:
            errors = {**(exc.fields or {}), **errors}
        return _render_form(product, data, errors, _("请修改标红的内容后再保存"), 422, image_order, removed,
                            _stage(files))
    try:
        with transaction():
            saved = products.save(_user(), g.merchant.id, _service_data(data, rows), product_id=product_id,
                                  new_images=[f["content"] for f in files])
            for image_id in removed:
                if image_id in {img.id for img in saved.images}:
                    products.remove_image(_user(), g.merchant.id, saved.id, image_id)
            db.session.refresh(saved)
            kept = [i for i in image_order if i not in removed and i in {img.id for img in saved.images}]
            order = kept + [img.id for img in saved.images if img.id not in kept]
            if order and order != [img.id for img in saved.images]:
                products.reorder_images(_user(), g.merchant.id, saved.id, order)
            if submit and saved.status in (ProductStatus.DRAFT, ProductStatus.REJECTED):
                saved = products.submit(_user(), g.merchant.id, saved.id)
            elif submit and saved.status == ProductStatus.OFF_SALE:
                saved = products.relist(_user(), g.merchant.id, saved.id)
            saved_id, saved_status = saved.id, saved.status
    except Conflict as exc:
        db.session.rollback()
        product = _load(product_id) if product_id else None
        errors = {}
        if exc.code == "stock_changed" and product is not None:
            for sku in product.skus:
                expected = data["skus"].get(sku.spec_key, {}).get("expected_stock")
                if expected and expected != str(sku.stock):
                    errors[f"sku.{sku.spec_key}.stock"] = _("库存已变化，现为 %(n)d", n=sku.stock)
            message = _("库存已变化（有新的订单或其他人修改了库存），你的修改没有保存。请核对后重新填写。")
        else:
            message = exc.message
        return _render_form(product, data, errors, message, 409, image_order, removed, _stage(files))
    except ValidationError as exc:
        db.session.rollback()
        product = _load(product_id) if product_id else None
        errors = {key: (_("请填写促销价") if key.endswith(".promotion_price") and text == _("请填写价格") else text)
                  for key, text in (exc.fields or {}).items()}
        if exc.code in ("too_many_images", "empty_file", "file_too_large", "image_too_large", "not_an_image") \
                or not errors:
            errors.setdefault("images" if "image" in (exc.code or "") or "file" in (exc.code or "") else "form",
                              exc.message)
        message = _("请修改标红的内容后再保存")
        return _render_form(product, data, errors, message, 422, image_order, removed, _stage(files))
    _drop_staged([f["staged"] for f in files if f.get("staged")])
    if submit and saved_status == ProductStatus.PENDING_REVIEW:
        flash(_("已保存并提交审核，审核通过后上架"), "success")
    elif submit and saved_status == ProductStatus.ON_SALE:
        flash(_("已保存，商品出售中"), "success")
    elif saved_status == ProductStatus.PENDING_REVIEW and before_status == ProductStatus.ON_SALE:
        flash(_("已保存。商品信息有修改，已重新提交审核"), "success")
    else:
        flash(_("已保存"), "success")
    return redirect(url_for("merchant.product_edit", product_id=saved_id))
