"""Marketing messages to a customer segment: an in-site message to each member (and, from
the platform, an SMS to those with a phone), sent by a tracked job in batches with a
progress bar, under a frequency cap shared by the platform and every shop.

Guarantees:
- `start` checks the draft, loads the segment in the sender's scope (another scope's is
  NotFound) and refuses a segment whose run was replaced since the sender looked at it
  (`segments_changed`); the same confirmation sent twice (`send_key`) gives the first
  job back instead of a second one. Flushes only.
- The job reads the segment's members once, when it starts. If the run was replaced
  before that (the nightly or an on-demand recompute), the job fails with a message
  saying so and sends nothing: the members the sender confirmed no longer exist, and
  sending to a newer segment of the same name would reach people they never saw.
  Replaced after that, the job goes on with the members it read.
- Each batch of `BATCH` members is one transaction, committed with its progress: the
  members' user rows are locked (in id order, so two jobs never deadlock), then each
  member is skipped when deleted, banned or opted out of marketing (`inactive`), already reached by this job
  (`already`), or reached by `marketing_cap_count` marketing messages in the last
  `marketing_cap_days` days, whoever sent them (`capped`); the others get the message and
  a `MarketingDelivery` row. Two jobs reaching one user at once wait for each other on
  that lock, so the second sees the first's delivery: the cap holds under concurrency.
  The unique (job, user) of the delivery rows is the backstop of "never twice per job".
- SMS only for platform senders who ask for it, only to members with a phone, with the
  carriers' opt-out words (template `marketing`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.states import UserStatus
from app.analytics.errors import AnalyticsError
from app.analytics.segments.models import (
    DeliveryChannel,
    MarketingDelivery,
    Segment,
    SegmentMember,
    SegmentRun,
    scope_id_of,
)
from app.analytics.segments.policies import Sender
from app.core import settings, tracked_jobs
from app.core.clock import utcnow
from app.core.db import run_in_unit_of_work
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.jobs import send_committed_jobs
from app.core.tracked_jobs import TrackedJob
from app.extensions import db
from app.notifications import services as notifications

SEND_KIND = "segment_message"
MESSAGE_KIND = "marketing"  # the in-site message's kind
SMS_TEMPLATE = "marketing"
BATCH = 200
TITLE_MAX, BODY_MAX, LINK_MAX = 40, 200, 300


@dataclass(frozen=True)
class Draft:
    """A message as the sender wrote it; the link is a path on this site (checked by the form)."""

    title: str
    body: str
    link: str | None = None
    sms: bool = False


def check(draft: Draft, sender: Sender) -> None:
    """Refuse a draft the form should not have let through (ValidationError naming the field)."""
    problems = {}
    if not draft.title or len(draft.title) > TITLE_MAX:
        problems["title"] = _("标题 1 到 %(n)d 个字", n=TITLE_MAX)
    if not draft.body or len(draft.body) > BODY_MAX:
        problems["body"] = _("内容 1 到 %(n)d 个字", n=BODY_MAX)
    if draft.link and (len(draft.link) > LINK_MAX or not draft.link.startswith("/") or draft.link.startswith("//")):
        problems["link"] = _("链接只能是本站页面的地址，例如 /products/12")
    if draft.sms and not sender.may_sms:
        problems["sms"] = _("只有平台可以发送短信")
    if problems:
        raise ValidationError(next(iter(problems.values())), code=AnalyticsError.MESSAGE_INVALID, fields=problems)


def cap() -> tuple[int, int]:
    """(at most this many marketing messages, per this many days) per user."""
    return int(settings.get("marketing_cap_count")), int(settings.get("marketing_cap_days"))


def load_segment(segment_id: int, merchant_id: int | None) -> Segment:
    """A segment of the scope's current run; NotFound for another scope's (or none)."""
    segment = db.session.scalar(
        sa.select(Segment).join(SegmentRun, SegmentRun.id == Segment.run_id)
        .where(Segment.id == segment_id, SegmentRun.scope_id == scope_id_of(merchant_id)))
    if segment is None:
        raise NotFound(_("客户分群不存在或已重新计算"))
    return segment


def _reachable(now) -> sa.ColumnElement[bool]:
    """Accounts that may receive marketing: not deleted, not under a ban (a lapsed ban is
    over), and not turned off by their owner (`marketing_opt_out`)."""
    return sa.and_(User.marketing_opt_out.is_(False), sa.or_(
        User.status == UserStatus.ACTIVE,
        sa.and_(User.status == UserStatus.BANNED, User.banned_until.is_not(None), User.banned_until <= now)))


@dataclass
class Audience:
    members: int
    reachable: int  # not deleted, not banned
    capped: int  # of those, already at the cap now
    receivers: int  # would get it now
    with_phone: int  # of the receivers, with a phone (SMS)


def audience(segment: Segment) -> Audience:
    """Who a message to `segment` would reach if it went now (two grouped queries)."""
    count, days = cap()
    now = utcnow()
    recent = (sa.select(MarketingDelivery.user_id, sa.func.count().label("n"))
              .where(MarketingDelivery.sent_at > now - timedelta(days=days))
              .group_by(MarketingDelivery.user_id).subquery())
    reachable = _reachable(now)
    capped = sa.and_(reachable, sa.func.coalesce(recent.c.n, 0) >= count)
    receiving = sa.and_(reachable, sa.func.coalesce(recent.c.n, 0) < count)
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.sum(sa.case((reachable, 1), else_=0)),
                  sa.func.sum(sa.case((capped, 1), else_=0)), sa.func.sum(sa.case((receiving, 1), else_=0)),
                  sa.func.sum(sa.case((sa.and_(receiving, User.phone.is_not(None)), 1), else_=0)))
        .select_from(SegmentMember).join(User, User.id == SegmentMember.user_id)
        .outerjoin(recent, recent.c.user_id == SegmentMember.user_id)
        .where(SegmentMember.segment_id == segment.id)).one()
    return Audience(*(int(v or 0) for v in row))


def _jobs_of(merchant_id: int | None) -> sa.Select:
    return tracked_jobs.for_platform(SEND_KIND) if merchant_id is None \
        else tracked_jobs.for_shop(SEND_KIND, merchant_id)


def start(sender: Sender, segment_id: int, run_id: int, draft: Draft, send_key: str) -> tuple[TrackedJob, bool]:
    """Queue the message to the segment as a tracked job (see the module docstring).
    Returns (the job, True), or (the job this confirmation already started, False)."""
    check(draft, sender)
    segment = load_segment(segment_id, sender.merchant_id)
    locked = db.session.scalar(sa.select(SegmentRun.id).where(SegmentRun.id == run_id).with_for_update())
    if segment.run_id != run_id or locked is None:
        raise Conflict(_("客户分群已重新计算，请查看最新的分群后再发送"), code=AnalyticsError.SEGMENTS_CHANGED)
    key = (send_key or "")[:64]
    if key:
        earlier = db.session.scalars(_jobs_of(sender.merchant_id)
                                     .where(TrackedJob.params["send_key"].as_string() == key).limit(1)).first()
        if earlier is not None:
            return earlier, False
    params = {"run_id": run_id, "segment_id": segment.id, "segment_name": segment.name,
              "segment_kind": segment.kind, "shop_name": sender.shop_name, "send_key": key, **asdict(draft)}
    job = tracked_jobs.create(SEND_KIND, _("「%(segment)s」%(title)s", segment=segment.name, title=draft.title),
                              merchant_id=sender.merchant_id, requested_by_id=sender.user_id, params=params)
    return job, True


def history(merchant_id: int | None) -> sa.Select:
    """The scope's sends, newest first (for pagination)."""
    return _jobs_of(merchant_id)


@tracked_jobs.handler(SEND_KIND)
def send_to_segment(job: TrackedJob, progress: tracked_jobs.Progress) -> dict:
    """The job: the segment's members read once, then sent to in batches (module docstring)."""
    params = job.params
    if db.session.get(SegmentRun, params["run_id"]) is None:
        raise Conflict(_("发送前客户分群已重新计算，消息没有发出；请在最新的分群上重新发送"),
                       code=AnalyticsError.SEGMENTS_CHANGED)
    members = db.session.scalars(
        sa.select(SegmentMember.user_id).join(Segment, Segment.id == SegmentMember.segment_id)
        .where(Segment.id == params["segment_id"], Segment.run_id == params["run_id"])
        .order_by(SegmentMember.user_id)).all()
    # Only the platform's sends carry SMS (checked at the start; the scope decides here too).
    draft = Draft(title=params["title"], body=params["body"], link=params.get("link"),
                  sms=bool(params.get("sms")) and job.merchant_id is None)
    progress.set_total(len(members))
    totals: Counter = Counter()
    for start_at in range(0, len(members), BATCH):
        batch = members[start_at:start_at + BATCH]
        totals.update(deliver_batch(job.id, job.merchant_id, batch, draft, params.get("shop_name")))
        progress.advance(len(batch))  # commits the batch with its count
        # The batch's SMS jobs leave now rather than when the whole send ends.
        send_committed_jobs(run_inline=run_in_unit_of_work)
    return {name: int(totals.get(name, 0)) for name in ("sent", "capped", "inactive", "already", "sms")}


def deliver_batch(job_id: int, merchant_id: int | None, user_ids: list[int], draft: Draft,
                  shop_name: str | None = None) -> Counter:
    """Message the members `user_ids` of one batch under the cap (module docstring). Flushes;
    the caller commits, which releases the batch's row locks."""
    count, days = cap()
    now = utcnow()
    users = db.session.execute(
        sa.select(User.id, User.phone, _reachable(now)).where(User.id.in_(user_ids)).order_by(User.id)
        .with_for_update(key_share=True)).all()
    already = set(db.session.scalars(sa.select(MarketingDelivery.user_id).where(
        MarketingDelivery.job_id == job_id, MarketingDelivery.user_id.in_(user_ids))))
    recent = dict(db.session.execute(
        sa.select(MarketingDelivery.user_id, sa.func.count())
        .where(MarketingDelivery.user_id.in_(user_ids), MarketingDelivery.sent_at > now - timedelta(days=days))
        .group_by(MarketingDelivery.user_id)).all())
    title = f"【{shop_name}】{draft.title}" if shop_name else draft.title
    counts: Counter = Counter(inactive=len(user_ids) - len(users))
    deliveries = []
    for user_id, phone, reachable in users:
        if user_id in already:
            counts["already"] += 1
        elif not reachable:
            counts["inactive"] += 1
        elif recent.get(user_id, 0) >= count:
            counts["capped"] += 1
        else:
            notifications.notify(user_id, title, draft.body, draft.link, kind=MESSAGE_KIND)
            channel = DeliveryChannel.SITE
            if draft.sms and phone:
                notifications.send_sms(phone, SMS_TEMPLATE, {"text": f"{title}：{draft.body}"})
                channel = DeliveryChannel.SITE_SMS
                counts["sms"] += 1
            deliveries.append({"job_id": job_id, "user_id": user_id, "merchant_id": merchant_id,
                               "channel": channel.value, "sent_at": now})
            counts["sent"] += 1
    if deliveries:
        db.session.execute(sa.insert(MarketingDelivery), deliveries)
    return counts
