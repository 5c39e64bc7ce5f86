"""`/api/v1/events`: behaviour events (埋点) from the mini-program, in batches.

Anonymous or signed in: a valid bearer token attributes the events to its user (an
invalid or expired one is ignored, the events stay anonymous); `X-Anon-Id` carries the
id the mini-program keeps in its storage, merged into the user at sign-in (send the same
header to `/api/v1/auth/login/*`). A malformed batch is refused whole with 400
`invalid_events` (not the 422 of other operations: the issue's contract).
"""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import BadRequest

from app.accounts import services as accounts
from app.analytics import tracking
from app.analytics.errors import AnalyticsError
from app.core.db import transaction
from app.web.api.security import bearer_token
from app.web.api.v1.errors import error_responses, flatten
from app.web.api.v1.schemas import StrictSchema, id_field, int_field
from app.web.errors import json_error
from app.web.forms import client_ip

blp = Blueprint("events", __name__, url_prefix="/events", description="Behaviour tracking (埋点)")


@blp.errorhandler(BadRequest)
def invalid_batch(exc: BadRequest):
    """The schema's refusals (and a body that is not JSON) as 400 `invalid_events`, with
    nested field names."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    flat: dict[str, str] = {}
    for location in messages.values() if isinstance(messages, dict) else []:
        flat.update(flatten(location))
    return json_error(400, AnalyticsError.INVALID_EVENTS, _("提交的内容有误"), flat)


class TrackedEventIn(StrictSchema):
    type = fields.Str(required=True, validate=validate.OneOf(sorted(tracking.CLIENT_TYPES)),
                      metadata={"description": "what happened (server-side types come from the server)"})
    ts = fields.Int(strict=True, metadata={"description": "when, in milliseconds since 1970-01-01 UTC; clamped to "
                                                          "the last 24 hours (device clocks lie); default now"})
    path = fields.Str(validate=validate.Length(min=1, max=tracking.MAX_PATH),
                      metadata={"description": "the page, starting with /"})
    product_id = id_field(strict=True, metadata={"description": "the product shown, clicked or viewed"})
    dwell_ms = int_field(0, 2**31 - 1, strict=True,
                         metadata={"description": "page_view: time on the page; clamped to 30 minutes"})
    props = fields.Dict(keys=fields.Str(validate=validate.Length(min=1, max=tracking.MAX_PROP_KEY)),
                        validate=validate.Length(max=tracking.MAX_PROPS),
                        metadata={"description": "at most 10 flat values, each a text (≤ 100 characters) or a "
                                                 "number; a click's name is props.name"})


class EventBatchIn(StrictSchema):
    events = fields.List(fields.Nested(TrackedEventIn), required=True,
                         validate=validate.Length(min=1, max=tracking.MAX_BATCH))


class AcceptedSchema(Schema):
    accepted = fields.Int(metadata={"description": "events kept: 0 when the client asks not to be tracked "
                                                  "(DNT: 1 or Sec-GPC: 1) or is a bot"})


def request_anon_id(cookie: str | None = None) -> str | None:
    """The anonymous id of this request: the X-Anon-Id header, else the cookie given."""
    return tracking.valid_anon_id(request.headers.get("X-Anon-Id")) or tracking.valid_anon_id(cookie)


@blp.post("")
@blp.arguments(EventBatchIn, error_status_code=400)
@blp.response(202, AcceptedSchema)
@error_responses(blp, (400, "invalid_events: not a list of 1..50 events, an unknown field, a wrong type"), 413,
                 (429, "rate_limited: more than 240 batches a minute from one address"))
def post_events(data):
    """Record 1..50 events (`page_view`, `click`, `impression`). Headers: `X-Anon-Id` (the
    mini-program's anonymous id), optionally `Authorization: Bearer <token>`."""
    tracking.limit_batches(client_ip())
    token = bearer_token()
    user = accounts.user_for_api_token(token) if token else None
    with transaction():
        accepted = tracking.record_batch(data["events"], user_id=user.id if user else None,
                                         anon_id=request_anon_id(), user_agent=request.user_agent.string,
                                         dnt=tracking.do_not_track(request.headers))
    return {"accepted": accepted}
