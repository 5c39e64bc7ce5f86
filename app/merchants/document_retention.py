"""How long a shop application's identity documents are kept: the 营业执照 and both sides
of the legal representative's 身份证, the most sensitive personal data the platform holds.

Guarantees:
- A shop's documents stay while the shop is open or suspended, and for
  `KEEP_AFTER_CLOSURE` after it was closed (网络交易监督管理办法: a platform keeps its
  sellers' identity records at least three years after they leave). A shop reopened in
  that time keeps them.
- An application that never became a shop (a draft left alone, or rejected and not sent
  again) keeps its documents for `KEEP_UNUSED` after it last changed; the applicant who
  comes back later uploads them again (submitting asks for them).
- Erasing removes the three stored images and their keys and stamps
  `documents_erased_at`; the application's text (names, credit code) stays with the shop's
  history. Each erasure is audit-logged, naming nothing erased. Re-running erases nothing
  twice: a stamped application is never chosen again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.core import audit, storage
from app.core.clock import utcnow
from app.core.db import each
from app.extensions import db
from app.merchants.models import Merchant, MerchantApplication, MerchantPenalty
from app.merchants.states import ApplicationStatus, MerchantStatus, PenaltyKind

KEEP_AFTER_CLOSURE = timedelta(days=3 * 365 + 1)
KEEP_UNUSED = timedelta(days=180)
DOCUMENT_COLUMNS = ("licence_key", "id_front_key", "id_back_key")


def _closed_before(cutoff: datetime):
    """Applications whose shop is closed and was closed (its latest closure) before `cutoff`."""
    closed_at = (sa.select(sa.func.max(MerchantPenalty.created_at))
                 .where(MerchantPenalty.merchant_id == MerchantApplication.merchant_id,
                        MerchantPenalty.kind == PenaltyKind.CLOSURE)
                 .correlate(MerchantApplication).scalar_subquery())
    shop_closed = sa.exists().where(Merchant.id == MerchantApplication.merchant_id,
                                    Merchant.status == MerchantStatus.CLOSED)
    return sa.and_(MerchantApplication.status == ApplicationStatus.APPROVED, shop_closed, closed_at < cutoff)


def _unused_before(cutoff: datetime):
    """Applications that never became a shop and have not changed since `cutoff`."""
    return sa.and_(MerchantApplication.status.in_((ApplicationStatus.DRAFT, ApplicationStatus.REJECTED)),
                   MerchantApplication.updated_at < cutoff)


def _has_documents():
    return sa.or_(*(getattr(MerchantApplication, column).is_not(None) for column in DOCUMENT_COLUMNS))


def _due(now: datetime):
    return sa.and_(MerchantApplication.documents_erased_at.is_(None), _has_documents(),
                   sa.or_(_closed_before(now - KEEP_AFTER_CLOSURE), _unused_before(now - KEEP_UNUSED)))


def due_ids(now: datetime | None = None) -> list[int]:
    """The applications whose documents' keeping time is over, oldest first."""
    now = now or utcnow()
    return list(db.session.scalars(sa.select(MerchantApplication.id).where(_due(now))
                                   .order_by(MerchantApplication.id)))


def erase(application_id: int) -> bool:
    """Erase one application's documents if their time is (still) over; False when not.
    The row is locked while deciding, so a shop reopened or an applicant uploading at the
    same moment is either seen or waits."""
    application = db.session.scalar(sa.select(MerchantApplication).where(
        MerchantApplication.id == application_id, _due(utcnow())).with_for_update())
    if application is None:
        return False
    keys = [key for key in (getattr(application, column) for column in DOCUMENT_COLUMNS) if key]
    for column in DOCUMENT_COLUMNS:
        setattr(application, column, None)
    application.documents_erased_at = utcnow()
    audit.record(None, "merchant_application.documents_erased", application,
                 note=f"{len(keys)} images past their keeping time")
    db.session.flush()
    for key in keys:  # after the row says so: a failed commit leaves the sweep to try again
        storage.delete_stored(key)
    return True


def sweep_expired_documents() -> int:
    """Periodic job (daily): erase every application's documents whose time is over, each
    in its own transaction. Returns how many applications were erased."""
    return each(due_ids(), erase, "merchant application")
