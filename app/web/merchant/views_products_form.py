"""The product add/edit form of the merchant console: the spec editor and the SKU
matrix (regenerated over HTMX, or by a plain post of the same form), images, and
saving (optionally submitting) in one transaction. Reading the form and drawing the
page again is `product_form_page`; the rules are the product service's."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.catalog import product_images, product_review, product_sale, products
from app.catalog.policies import Side, actions_for
from app.catalog.product_access import get_for_merchant
from app.catalog.states import MAX_SPEC_DIMENSIONS, ProductStatus
from app.core import storage
from app.core.bounds import to_int
from app.core.db import transaction
from app.core.errors import Conflict, DomainError, ValidationError
from app.extensions import db
from app.web.merchant import product_form_page as page
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required


def _user():
    return current_user._get_current_object()


def _load(product_id: int):
    try:
        return get_for_merchant(g.merchant.id, product_id)
    except DomainError:
        abort(404)


@bp.get("/products/new")
@merchant_required()
def product_new():
    return page.render_form(None, page.form_from_product(None))


@bp.get("/products/<int:product_id>")
@bp.get("/products/<int:product_id>/edit")
@merchant_required()
def product_edit(product_id: int):
    product = _load(product_id)
    return page.render_form(product, page.form_from_product(product))


@bp.post("/products/matrix")
@merchant_required()
def product_matrix():
    """The spec editor and the SKU matrix for the posted form (an HTMX partial)."""
    product_id = to_int(request.form.get("product_id"), 1)
    product = _load(product_id) if product_id else None
    data = page.form_from_request()
    rows, spec_error = page.matrix_rows(data["specs"], data["skus"], page.existing_skus(product))
    return render_template("merchant/products/_specs.html", data=data, rows=rows,
                           errors={"specs": spec_error} if spec_error else {}, max_dimensions=MAX_SPEC_DIMENSIONS)


@bp.get("/products/staged/<name>")
@merchant_required()
def product_staged_image(name: str):
    """Preview of an image kept from a refused form (the current shop's staging folder only)."""
    if not page.STAGED_NAME.match(name):
        abort(404)
    path, content_type = storage.open_stored(f"{page.staging_folder()}/{name}")
    return send_file(path, mimetype=content_type, max_age=0)


def _store(product_id: int | None, typed, post: page.Post):
    """Save, apply the image edits, and submit (or relist) when asked: one transaction."""
    user, merchant_id = _user(), g.merchant.id
    saved = products.save(user, merchant_id, typed, product_id=product_id,
                          new_images=[f["content"] for f in post.files])
    for image_id in post.removed:
        if image_id in {img.id for img in saved.images}:
            product_images.remove_image(user, merchant_id, saved.id, image_id)
    db.session.refresh(saved)
    kept = [i for i in post.image_order if i not in post.removed and i in {img.id for img in saved.images}]
    order = kept + [img.id for img in saved.images if img.id not in kept]
    if order and order != [img.id for img in saved.images]:
        product_images.reorder_images(user, merchant_id, saved.id, order)
    actions = actions_for(saved, user, Side.MERCHANT)
    if post.submit and "submit" in actions:
        saved = product_review.submit(user, merchant_id, saved.id)
    elif post.submit and "relist" in actions:
        saved = product_sale.relist(user, merchant_id, saved.id)
    return saved


def _saved_message(submitted: bool, before: str | None, now: str) -> str:
    if submitted and now == ProductStatus.PENDING_REVIEW:
        return _("已保存并提交审核，审核通过后上架")
    if submitted and now == ProductStatus.ON_SALE:
        return _("已保存，商品出售中")
    if now == ProductStatus.PENDING_REVIEW and before == ProductStatus.ON_SALE:
        return _("已保存。商品信息有修改，已重新提交审核")
    return _("已保存")


@bp.post("/products/new")
@bp.post("/products/<int:product_id>/edit")
@merchant_required()
def product_save(product_id: int | None = None):
    product = _load(product_id) if product_id else None
    post = page.Post.read()
    if post.redraw:
        return page.render_form(product, post.data, image_order=post.image_order, removed=post.removed,
                                staged=post.staged)
    typed, unreadable = page.to_input(post.data, product)
    errors = page.image_errors(post.files) | ({"specs": unreadable["specs"]} if "specs" in unreadable else {})
    if errors:  # name the other fields' problems too, in one round
        return page.render_refused(product, post, {**page.all_problems(typed, unreadable), **errors}, _("请修改标红的内容后再保存"), 422)
    before = product.status if product is not None else None
    try:
        with transaction():
            if unreadable:
                page.check(typed, unreadable)  # raises, naming every field
            saved = _store(product_id, typed, post)
            saved_id, saved_status = saved.id, saved.status
    except Conflict as exc:
        db.session.rollback()
        product = _load(product_id) if product_id else None
        errors, message = page.conflict_errors(product, post, exc)
        return page.render_refused(product, post, errors, message, 409)
    except ValidationError as exc:
        db.session.rollback()
        product = _load(product_id) if product_id else None
        return page.render_refused(product, post, page.invalid_errors(exc), _("请修改标红的内容后再保存"), 422)
    page.drop_staged([f["staged"] for f in post.files if f.get("staged")])
    flash(_saved_message(post.submit, before, saved_status), "success")
    return redirect(url_for("merchant.product_edit", product_id=saved_id))
