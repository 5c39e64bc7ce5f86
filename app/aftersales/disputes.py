"""平台介入: the buyer escalates, both sides state their case in a thread, the platform rules.

Guarantees:
- Only the buyer escalates, and only from what `policies` allows (after a rejection, or
  when the shop let its deadline for a returned parcel pass); one dispute per request.
- The shop states its side (with evidence) while disputed; buyer, shop and platform
  write in one thread; nobody else sees or writes it (loading is scoped).
- A ruling is an admin's act with a note, written to the audit log: for the buyer a
  refund now (goods stay) or a return then refund; for the shop the request closes.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.aftersales import policies, refunding, services
from app.aftersales.errors import AfterSaleError
from app.aftersales.models import AfterSale, Dispute, DisputeMessage
from app.aftersales.signals import aftersale_disputed
from app.aftersales.states import (
    AFTERSALE_LIFECYCLE,
    MESSAGE_MAX,
    STATEMENT_MAX,
    AfterSaleKind,
    AfterSaleStatus,
    Ruling,
    Side,
)
from app.core import audit, storage
from app.core.clock import utcnow
from app.core.db import add_unique
from app.core.errors import Conflict, ValidationError
from app.core.lifecycle import move
from app.extensions import db


def _text(raw, limit: int, field: str, message: str, code: str) -> str:
    text = (raw or "").strip()
    if not text or len(text) > limit:
        raise ValidationError(message, code=code, fields={field: message})
    return text


def _images(images: list[bytes] | None, folder: str) -> list[dict]:
    images = [data for data in images or [] if data]
    if len(images) > 6:
        raise ValidationError(_("最多上传 %(n)d 张图片", n=6), code=AfterSaleError.TOO_MANY_IMAGES,
                              fields={"images": _("最多上传 %(n)d 张图片", n=6)})
    for data in images:
        storage.check_image(data)
    return services.store_images(images, folder)


def escalate(buyer_id: int, aftersale_no: str, statement: str, images: list[bytes] | None = None) -> AfterSale:
    """The buyer asks the platform to step in, with their statement and evidence."""
    aftersale = services.require(services.for_buyer(buyer_id, aftersale_no), policies.buyer(buyer_id),
                                  policies.Act.ESCALATE)
    statement = _text(statement, STATEMENT_MAX, "statement", _("请说明需要平台处理的问题（最多 %(n)d 字）", n=STATEMENT_MAX),
                      AfterSaleError.STATEMENT_REQUIRED)
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "escalate", actor_id=buyer_id, note=_("买家申请平台介入"),
         values={"due_at": None})
    add_unique(Dispute(aftersale_id=aftersale.id, buyer_statement=statement,
                       buyer_evidence=_images(images, f"aftersales/{aftersale.id}/dispute")),
               Conflict(_("已申请平台介入"), code=AfterSaleError.CANNOT_ACT))
    aftersale = services.reload(aftersale.id)
    aftersale_disputed.send(aftersale)
    return aftersale


def state(actor: policies.Actor, aftersale_no: str, statement: str, images: list[bytes] | None = None) -> Dispute:
    """The shop's side of a dispute (it may restate it until the ruling)."""
    aftersale = services.require(services.for_merchant(actor.merchant_id, aftersale_no), actor, policies.Act.STATE)
    statement = _text(statement, STATEMENT_MAX, "statement", _("请填写商家说明（最多 %(n)d 字）", n=STATEMENT_MAX),
                      AfterSaleError.STATEMENT_REQUIRED)
    dispute = aftersale.dispute
    dispute.merchant_statement = statement
    evidence = _images(images, f"aftersales/{aftersale.id}/dispute")
    if evidence:
        dispute.merchant_evidence = evidence
    db.session.flush()
    return dispute


def post(aftersale: AfterSale, author_id: int | None, side: Side, body: str,
         images: list[bytes] | None = None) -> DisputeMessage:
    """One line in the dispute thread. The caller has loaded `aftersale` for the author
    (scoped) and checked they may write: the buyer, the shop or the platform."""
    if aftersale.dispute is None:
        raise Conflict(_("该售后未申请平台介入"), code=AfterSaleError.CANNOT_ACT)
    if aftersale.dispute.ruled_at is not None:
        raise Conflict(_("平台已作出处理，留言已关闭"), code=AfterSaleError.CANNOT_ACT)
    if aftersale.status != AfterSaleStatus.DISPUTED:  # withdrawn, or the shop gave in and refunded
        raise Conflict(_("售后已结束，留言已关闭"), code=AfterSaleError.CANNOT_ACT)
    body = _text(body, MESSAGE_MAX, "body", _("请输入留言（最多 %(n)d 字）", n=MESSAGE_MAX), AfterSaleError.MESSAGE_REQUIRED)
    message = DisputeMessage(dispute_id=aftersale.dispute.id, author_id=author_id, side=side, body=body,
                             images=_images(images, f"aftersales/{aftersale.id}/dispute"))
    db.session.add(message)
    db.session.flush()
    return message


def rule(admin, aftersale_no: str, ruling: str, note: str) -> AfterSale:
    """The platform decides a disputed request (audited): `refund` (money back now),
    `return_refund` (goods back to the shop's default address, then money back; the
    money at once when the buyer had already sent them back) or `close` (for the shop)."""
    aftersale = services.for_platform(aftersale_no)
    policies.require(aftersale, policies.admin(admin.id, admin.admin_role), policies.Act.RULE)
    if ruling not in set(Ruling):
        raise ValidationError(_("请选择处理结果"), code=AfterSaleError.INVALID_RULING, fields={"ruling": _("请选择处理结果")})
    note = _text(note, 500, "note", _("请填写处理说明（最多 500 字）"), AfterSaleError.STATEMENT_REQUIRED)
    moved = db.session.execute(
        sa.update(Dispute).where(Dispute.id == aftersale.dispute.id, Dispute.ruled_at.is_(None))
        .values(ruling=ruling, ruling_note=note, ruled_by_id=admin.id, ruled_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(_("平台已作出处理"), code=AfterSaleError.CANNOT_ACT)
    if ruling == Ruling.REFUND:
        refunding.start(aftersale, admin.id, _("平台裁定：支持买家，直接退款。%(note)s", note=note))
    elif ruling == Ruling.RETURN_REFUND and aftersale.returned_at is not None:
        # Escalated after the buyer had sent the goods back: asking for them again would
        # leave the buyer waiting for a parcel that is already with the shop.
        refunding.start(aftersale, admin.id, _("平台裁定：支持买家退货退款（商品已寄回商家）。%(note)s", note=note))
    elif ruling == Ruling.RETURN_REFUND:
        address = services.default_address(aftersale.merchant_id)
        if address is None:
            refunding.start(aftersale, admin.id, _("平台裁定：支持买家退款（商家无退货地址）。%(note)s", note=note))
        else:
            services.start_return(aftersale, admin.id, address, _("平台裁定：支持买家退货退款。%(note)s", note=note),
                                  kind=AfterSaleKind.RETURN_REFUND)
    else:
        services.close(aftersale.id, admin.id, _("平台裁定：支持商家，售后关闭。%(note)s", note=note))
    audit.record(admin, "aftersale.rule", ("AfterSale", aftersale.id), {"ruling": [None, ruling]}, note=note)
    return services.reload(aftersale.id)
