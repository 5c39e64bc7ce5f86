"""`/api/v1/distributor` and `/api/v1/referrals`: the distributor centre for the mini-program.

Every endpoint acts for the bearer token's user and reads only that user's own
distributor row, commissions, team and withdrawals: there is no id in any URL
here, so another distributor's data cannot even be named. Views parse input,
call one distribution service inside `transaction()` and serialise; the rules
live in app/distribution.

`GET /distributor` is the "open the centre" call: under the `everyone`
qualification it makes an eligible user an active distributor (as the shop's
centre page does), so it writes and commits.

`POST /referrals/bind` leaves "is this user new" (for "bind new users only") to
`referrals.counts_as_new`, the rule the shop uses too (docs/api.md, Distribution).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import make_response
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError
from werkzeug.exceptions import UnprocessableEntity

from app.accounts.models import User
from app.catalog import queries as catalog_queries
from app.catalog.models import Product
from app.core.db import transaction
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.money import InvalidAmount, fen_to_yuan, yuan_to_fen
from app.core.pagination import paginate
from app.core.urls import external_url
from app.distribution import distributors, queries, referrals, withdrawals
from app.distribution import rules as distribution_rules
from app.distribution import share as share_files
from app.distribution.errors import DistributionError
from app.distribution.models import Distributor, Withdrawal
from app.distribution.states import BindingSource, DistributorStatus, Qualification
from app.extensions import db
from app.web.api.security import api_user
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.schemas import PageSchema, StrictSchema, id_field, int_field, page_field, per_page_field
from app.web.api.v1.serializers import page_payload
from app.web.distributor.access import shop_link

blp = Blueprint("distribution", __name__, url_prefix="", description="Distributor centre and referral binding")
blp.errorhandler(UnprocessableEntity)(invalid_body)
QR_SCENE_MAX = 32  # wxacode.getUnlimited accepts a scene of at most 32 visible characters


# --- schemas ----------------------------------------------------------------------------------

class SummarySchema(Schema):
    pending_fen = fields.Int(metadata={"description": "commission waiting for settlement (voided parts excluded)"})
    available_fen = fields.Int(metadata={"description": "settled - withdrawn - withdrawals in progress (never below 0)"})
    debt_fen = fields.Int(metadata={"description": "commission refunds took back after it was withdrawn; "
                                                   "the next settled commission pays it first"})
    withdrawn_fen = fields.Int(metadata={"description": "withdrawals paid out"})
    in_progress_fen = fields.Int(metadata={"description": "withdrawals requested or approved, not yet paid"})
    total_fen = fields.Int(metadata={"description": "pending + settled: everything earned and not voided"})


class WithdrawalRulesSchema(Schema):
    min_fen = fields.Int()
    max_fen = fields.Int()
    fee_bp = fields.Int(metadata={"description": "fee rate in basis points (100 = 1%), rounded half up to the fen"})
    methods = fields.List(fields.Str(), metadata={"description": "wechat | alipay | bank"})


class DistributorOutSchema(Schema):
    enabled = fields.Bool(metadata={"description": "whether the platform runs distribution at all"})
    status = fields.Str(metadata={"description": "none | pending | active | rejected | frozen"})
    code = fields.Str(allow_none=True, metadata={"description": "the referral code (active or frozen only)"})
    reason = fields.Str(allow_none=True, metadata={"description": "the rejection or freeze reason"})
    qualification = fields.Str(metadata={"description": "everyone | application | spend_threshold"})
    can_apply = fields.Bool(metadata={"description": "application mode and no pending/active row"})
    summary = fields.Nested(SummarySchema)
    spend_fen = fields.Int(metadata={"description": "spend_threshold mode only: the user's paid spend"})
    threshold_fen = fields.Int(metadata={"description": "spend_threshold mode only"})
    withdrawal = fields.Nested(WithdrawalRulesSchema)


class ApplyInSchema(StrictSchema):
    real_name = fields.Str(required=True, metadata={"description": "2-20 characters"})
    phone = fields.Str(required=True, metadata={"description": "11-digit mainland mobile number"})
    reason = fields.Str(load_default="", metadata={"description": "at most 300 characters"})


class PageArgsSchema(StrictSchema):
    page = page_field()
    per_page = per_page_field()


class CommissionSchema(Schema):
    order_no = fields.Str()
    item_title = fields.Str()
    level = fields.Int(metadata={"description": "1, 2 or 3"})
    base_fen = fields.Int(metadata={"description": "the item's paid amount, shipping excluded"})
    rate_bp = fields.Int()
    amount_fen = fields.Int(metadata={"description": "as computed when the order was paid"})
    void_fen = fields.Int(metadata={"description": "taken back by refunds"})
    status = fields.Str(metadata={"description": "pending | settled | void"})
    created_at = fields.DateTime()
    settle_after = fields.DateTime(allow_none=True, metadata={"description": "set once the order is received"})
    settled_at = fields.DateTime(allow_none=True)


class CommissionArgsSchema(PageArgsSchema):
    status = fields.Str(validate=validate.OneOf(["pending", "settled", "void"]))


class CommissionPageSchema(PageSchema):
    items = fields.List(fields.Nested(CommissionSchema))


class TeamArgsSchema(PageArgsSchema):
    level = fields.Int(load_default=1, validate=validate.OneOf([1, 2]),
                       metadata={"description": "1: distributors who joined under me; 2: who joined under them"})


class TeamCountsSchema(Schema):
    level1 = fields.Int()
    level2 = fields.Int()
    customers = fields.Int(metadata={"description": "buyers currently bound to me"})


class TeamMemberSchema(Schema):
    nickname = fields.Str()
    status = fields.Str()
    level = fields.Int()
    joined_at = fields.DateTime()
    members = fields.Int(metadata={"description": "level 1 only: how many joined under this member"})


class TeamOutSchema(Schema):
    counts = fields.Nested(TeamCountsSchema)
    level = fields.Int()
    items = fields.List(fields.Nested(TeamMemberSchema))
    page = fields.Int()
    per_page = fields.Int()
    total = fields.Int()


class OneAmountSchema(StrictSchema):
    """A withdrawal's amount comes as `amount` (yuan) or `amount_fen`, exactly one of them."""

    @validates_schema
    def _one_amount(self, data, **kwargs):
        if ("amount" in data) == ("amount_fen" in data):
            raise MarshmallowError(_("请填写提现金额（amount 或 amount_fen 其中之一）"), field_name="amount")


class WithdrawalInSchema(OneAmountSchema):
    amount = fields.Str(metadata={"description": "yuan, up to two decimals, e.g. \"30\" or \"30.50\""})
    amount_fen = int_field(1, strict=True, metadata={"description": "instead of amount"})
    method = fields.Str(required=True, metadata={"description": "wechat | alipay | bank (as the rules allow)"})
    account_name = fields.Str(required=True, metadata={"description": "the payee's real name"})
    account_no = fields.Str(required=True, metadata={"description": "WeChat/Alipay account or a 12-19 digit card"})
    bank_name = fields.Str(load_default="", metadata={"description": "bank only"})


class QuoteArgsSchema(OneAmountSchema):
    amount = fields.Str(metadata={"description": "yuan"})
    amount_fen = int_field(1)


class QuoteSchema(Schema):
    amount_fen = fields.Int()
    fee_fen = fields.Int()
    net_fen = fields.Int(metadata={"description": "what reaches the account"})
    available_fen = fields.Int()


class WithdrawalSchema(Schema):
    id = fields.Int()
    amount_fen = fields.Int(metadata={"description": "taken from the balance"})
    fee_fen = fields.Int()
    net_fen = fields.Int(metadata={"description": "amount - fee: what is transferred"})
    method = fields.Str()
    account_name = fields.Str()
    account_no = fields.Str(metadata={"description": "masked: only the last four characters shown"})
    bank_name = fields.Str(allow_none=True)
    status = fields.Str(metadata={"description": "requested | approved | paid | rejected"})
    reject_reason = fields.Str(allow_none=True)
    transfer_ref = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)


class WithdrawalPageSchema(PageSchema):
    items = fields.List(fields.Nested(WithdrawalSchema))


class ShareArgsSchema(StrictSchema):
    product_id = id_field(metadata={"description": "an on-sale product; without it the link is to the shop"})


class ShareSchema(Schema):
    code = fields.Str()
    link = fields.Str(metadata={"description": "absolute: /r/<code> or /r/<code>/p/<product_id>"})
    qr_scene = fields.Str(metadata={"description": "for wxacode.getUnlimited: r=<code> or r=<code>&p=<id> (<= 32)"})
    poster_url = fields.Str(metadata={"description": "absolute: the share poster PNG (session of the web centre)"})
    commission_enabled = fields.Bool(allow_none=True,
                                     metadata={"description": "product links only: whether the product pays commission"})


class BindInSchema(StrictSchema):
    code = fields.Str(required=True, validate=validate.Length(min=1, max=32),
                      metadata={"description": "the referral code (e.g. from the QR scene r=<code>)"})
    source = fields.Str(load_default=BindingSource.QR, validate=validate.OneOf([s.value for s in BindingSource]),
                        metadata={"description": "qr (default) | link | code"})


class BindOutSchema(Schema):
    bound = fields.Bool(metadata={"description": "true when the user is now bound to this code's distributor"})
    distributor_code = fields.Str(allow_none=True, metadata={"description": "who the user is bound to now (if anyone)"})


# --- helpers ----------------------------------------------------------------------------------

def _own_distributor() -> Distributor:
    distributor = distributors.for_user(api_user().id)
    if distributor is None:
        raise NotFound(_("您还不是分销商"), code=DistributionError.NOT_DISTRIBUTOR)
    return distributor


def _summary(distributor_id: int | None) -> dict:
    if distributor_id is None:
        return {"pending_fen": 0, "available_fen": 0, "debt_fen": 0, "withdrawn_fen": 0, "in_progress_fen": 0,
                "total_fen": 0}
    earned = queries.earnings(distributor_id)
    return {"pending_fen": earned.pending_fen, "available_fen": earned.available_fen, "debt_fen": earned.debt_fen,
            "withdrawn_fen": earned.withdrawn_fen, "in_progress_fen": earned.in_progress_fen,
            "total_fen": earned.total_fen}


def _centre_payload(user: User, distributor: Distributor | None) -> dict:
    rules = distribution_rules.current()
    status = distributor.status if distributor is not None else "none"
    shows_code = status in (DistributorStatus.ACTIVE, DistributorStatus.FROZEN)
    data = {
        "enabled": rules.enabled, "status": status,
        "code": distributor.code if distributor is not None and shows_code else None,
        "reason": distributor.status_reason if distributor is not None and status in (
            DistributorStatus.REJECTED, DistributorStatus.FROZEN) else None,
        "qualification": rules.qualification,
        "can_apply": rules.enabled and rules.qualification == Qualification.APPLICATION
        and status in ("none", DistributorStatus.REJECTED),
        "summary": _summary(distributor.id if distributor is not None else None),
        "withdrawal": {"min_fen": rules.withdrawal_min_fen, "max_fen": rules.withdrawal_max_fen,
                       "fee_bp": rules.withdrawal_fee_bp, "methods": list(rules.withdrawal_methods or [])},
    }
    if rules.qualification == Qualification.SPEND_THRESHOLD:
        data["spend_fen"] = distributors.paid_spend_fen(user.id)
        data["threshold_fen"] = rules.spend_threshold_fen
    return data


def _mask(account: str) -> str:
    account = account or ""
    return "*" * max(0, len(account) - 4) + account[-4:] if len(account) > 4 else account


def _withdrawal_payload(w: Withdrawal) -> dict:
    account = w.account or {}
    return {"id": w.id, "amount_fen": w.amount_fen, "fee_fen": w.fee_fen, "net_fen": w.net_fen, "method": w.method,
            "account_name": account.get("name", ""), "account_no": _mask(account.get("account", "")),
            "bank_name": account.get("bank"), "status": w.status, "reject_reason": w.reject_reason,
            "transfer_ref": w.transfer_ref, "created_at": w.created_at, "reviewed_at": w.reviewed_at,
            "paid_at": w.paid_at}


def _amount_yuan(data: dict) -> str:
    """The request's amount as the yuan string the withdrawal service parses."""
    if data.get("amount_fen") is not None:
        return fen_to_yuan(data["amount_fen"])
    return str(data.get("amount") or "").strip()


# --- the centre ---------------------------------------------------------------------------------

@blp.get("/distributor")
@bearer_operation(blp)
@blp.response(200, DistributorOutSchema)
def centre():
    """My distributor status, code and earnings. Under the `everyone` qualification (and
    distribution on) the first call makes the user an active distributor."""
    user = api_user()
    with transaction():
        distributor = distributors.open_centre(user)
        distributor_id = distributor.id if distributor is not None else None
    db.session.expire_all()
    distributor = db.session.get(Distributor, distributor_id) if distributor_id else None
    return _centre_payload(user, distributor)


@blp.post("/distributor/apply")
@bearer_operation(blp, (409, "application_not_open (not the application mode), already_applied (pending or active)"),
                  (422, "invalid_application with fields"))
@blp.arguments(ApplyInSchema)
@blp.response(201, DistributorOutSchema)
def apply(data):
    """Apply to become a distributor (application mode), or apply again after a rejection."""
    user = api_user()
    with transaction():
        distributor_id = distributors.apply(user, data).id
    db.session.expire_all()
    return _centre_payload(user, db.session.get(Distributor, distributor_id))


@blp.get("/distributor/commissions")
@bearer_operation(blp, (404, "not_distributor"), 422)
@blp.arguments(CommissionArgsSchema, location="query")
@blp.response(200, CommissionPageSchema)
def commission_list(args):
    """My commissions, newest first (optionally one status), with order number and item title."""
    distributor = _own_distributor()
    stmt = queries.commission_rows(distributor_id=distributor.id, status=args.get("status"))
    page = paginate(stmt, args["page"], args["per_page"], scalars=False)
    items = [{"order_no": order_no, "item_title": title, "level": c.level, "base_fen": c.base_fen,
              "rate_bp": c.rate_bp, "amount_fen": c.amount_fen, "void_fen": c.void_fen, "status": c.status,
              "created_at": c.created_at, "settle_after": c.settle_after, "settled_at": c.settled_at}
             for c, order_no, title, *_earner in page.items]
    return page_payload(page, items)


@blp.get("/distributor/team")
@bearer_operation(blp, (404, "not_distributor"), 422)
@blp.arguments(TeamArgsSchema, location="query")
@blp.response(200, TeamOutSchema)
def team(args):
    """My team: counts of level-1 and level-2 members and of bound customers, and one
    level's members (newest first). Members show their nickname, never contact details."""
    distributor = _own_distributor()
    counts = queries.team_count(distributor.id)
    page = paginate(queries.team_members(distributor.id, args["level"]), args["page"], args["per_page"], scalars=False)
    items = [{"nickname": user.display_name, "status": member.status, "level": args["level"],
              "joined_at": member.activated_at or member.created_at, "members": below_count}
             for member, user, below_count in page.items]
    return {"counts": {"level1": counts.level1, "level2": counts.level2, "customers": counts.customers},
            "level": args["level"], **page_payload(page, items)}


# --- withdrawals ------------------------------------------------------------------------------

@blp.get("/distributor/withdrawals/quote")
@bearer_operation(blp, (404, "not_distributor"), (422, "invalid_amount"))
@blp.arguments(QuoteArgsSchema, location="query")
@blp.response(200, QuoteSchema)
def withdrawal_quote(args):
    """The fee and the net amount of a withdrawal, to show before confirming (writes nothing)."""
    distributor = _own_distributor()
    try:
        amount = yuan_to_fen(_amount_yuan(args))
    except InvalidAmount:
        raise ValidationError(_("请输入正确的金额"), code=DistributionError.INVALID_AMOUNT, fields={"amount": _("请输入正确的金额")}) from None
    fee = withdrawals.fee_for(amount)
    return {"amount_fen": amount, "fee_fen": fee, "net_fen": amount - fee,
            "available_fen": queries.earnings(distributor.id).available_fen}


@blp.post("/distributor/withdrawals")
@bearer_operation(blp, (404, "not_distributor"), (409, "insufficient_balance, cannot_withdraw (frozen or not active)"),
                  (422, "invalid_amount, below_minimum, above_maximum, invalid_method, invalid_account"))
@blp.arguments(WithdrawalInSchema)
@blp.response(201, WithdrawalSchema)
def withdrawal_request(data):
    """Withdraw from the available balance. The amount is reserved at once; concurrent
    requests can never take the balance below zero."""
    with transaction():
        withdrawal = withdrawals.request(api_user(), {**data, "amount": _amount_yuan(data)})
        withdrawal_id = withdrawal.id
    db.session.expire_all()
    return _withdrawal_payload(db.session.get(Withdrawal, withdrawal_id))


@blp.get("/distributor/withdrawals")
@bearer_operation(blp, (404, "not_distributor"), 422)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, WithdrawalPageSchema)
def withdrawal_list(args):
    """My withdrawals, newest first."""
    distributor = _own_distributor()
    page = paginate(sa.select(Withdrawal).where(Withdrawal.distributor_id == distributor.id)
                    .order_by(Withdrawal.id.desc()), args["page"], args["per_page"])
    return page_payload(page, [_withdrawal_payload(w) for w in page.items])


# --- sharing and binding ------------------------------------------------------------------------

@blp.get("/distributor/share")
@bearer_operation(blp, (404, "not_distributor, product_not_found (or not on sale)"),
                  (409, "distributor_inactive: pending, rejected or frozen"), 422)
@blp.arguments(ShareArgsSchema, location="query")
@blp.response(200, ShareSchema)
def share(args):
    """My referral link (to the shop or to one product), the scene for the mini-program's
    QR code and the poster's address (fetched with the same bearer token)."""
    distributor = _sharing_distributor()
    product = _shared_product(args.get("product_id"))
    scene = f"r={distributor.code}" + (f"&p={product.id}" if product else "")
    if len(scene) > QR_SCENE_MAX:  # cannot happen with 6-character codes and sane ids; never send a bad scene
        raise ValidationError(_("商品编号过长"), code=DistributionError.INVALID_PRODUCT_ID, fields={"product_id": _("商品编号过长")})
    poster_args = {"product_id": product.id} if product else {}
    return {"code": distributor.code, "link": shop_link(distributor, product.id if product else None),
            "qr_scene": scene, "poster_url": external_url("distribution.share_poster", **poster_args),
            "commission_enabled": product.distribution_enabled if product else None}


@blp.get("/distributor/share/poster.png")
@bearer_operation(blp, (404, "not_distributor, product_not_found"), (409, "distributor_inactive"))
@blp.arguments(ShareArgsSchema, location="query")
@blp.alt_response(200, description="the poster, image/png", success=True)
def share_poster(args):
    """The share poster (PNG) for the mini-program, with the QR code of my link."""
    distributor = _sharing_distributor()
    product = _shared_product(args.get("product_id"))
    url = shop_link(distributor, product.id if product else None, qr=True)
    response = make_response(share_files.poster_png(product, distributor, url))
    response.headers["Content-Type"] = "image/png"
    return response


def _sharing_distributor() -> Distributor:
    distributor = _own_distributor()
    if distributor.status != DistributorStatus.ACTIVE:
        raise Conflict(_("分销资格未开通或已冻结，暂不能分享"), code=DistributionError.DISTRIBUTOR_INACTIVE)
    return distributor


def _shared_product(product_id: int | None) -> Product | None:
    """A product shoppers can see and buy (the storefront's own rule), or None for the shop."""
    if product_id is None:
        return None
    try:
        return catalog_queries.visible_product(product_id)
    except NotFound:
        raise NotFound(_("商品不存在或已下架"), code=DistributionError.PRODUCT_NOT_FOUND) from None


@blp.post("/referrals/bind")
@bearer_operation(blp, (404, "invalid_code"), (409, "cannot_bind_self, cannot_bind_downline, distributor_inactive"),
                  422)
@blp.arguments(BindInSchema)
@blp.response(200, BindOutSchema)
def bind(data):
    """Bind me to the distributor of `code` (from the QR scene or a typed code), as the
    platform's binding mode allows. `bound` is false when the rules keep an existing
    binding, distribution is off, or only new users may be bound."""
    user = api_user()
    with transaction():
        distributor = distributors.by_code(data["code"])
        referrals.bind(user, data["code"], data["source"])
        wanted = distributor.id if distributor is not None else None
    db.session.expire_all()
    binding = referrals.current_binding(user.id)
    current = db.session.get(Distributor, binding.distributor_id) if binding is not None else None
    return {"bound": current is not None and current.id == wanted,
            "distributor_code": current.code if current is not None else None}
