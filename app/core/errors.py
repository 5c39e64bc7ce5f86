"""Typed errors raised by domain code. Each surface maps them: pages flash,
HTMX gets a partial, the API answers `{"error": {"code", "message"}}`."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"
    # True for failures whose bookkeeping must survive the failed request (a
    # wrong verification code counts an attempt): `transaction()` commits the
    # flushed changes, then re-raises.
    keeps_changes = False

    def __init__(self, message: str = "", *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationError(DomainError):
    status = 422
    code = "invalid"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RateLimited(DomainError):
    """A limit was reached; `retry_after` (seconds, when known) becomes the Retry-After header."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str = "", *, code: str | None = None, fields: dict | None = None,
                 retry_after: int | None = None):
        super().__init__(message, code=code, fields=fields)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A service the action needs (the job queue) does not answer right now; try later."""

    status = 503
    code = "unavailable"


class StaleState(Conflict):
    """A guarded transition lost: the row was not (or no longer) in a state the act starts from.

    `act` names the act tried, `found` the state the row was in, `lifecycle` the table,
    so a caller can say what actually happened ("订单已取消") instead of a generic message."""

    code = "stale_state"

    def __init__(self, message: str = "", *, act: str | None = None, found: str | None = None,
                 lifecycle: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.act, self.found, self.lifecycle = act, found, lifecycle
