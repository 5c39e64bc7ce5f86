"""How account statuses read and look, on every surface. The status shown is
`User.shown_status`: a ban whose end date passed shows as active."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.accounts.states import UserStatus
from app.core.labels import StatusLabels, Tone

USER_LABELS = StatusLabels("user", {
    UserStatus.ACTIVE: _l("正常"),
    UserStatus.BANNED: _l("已封禁"),
    UserStatus.DELETED: _l("已注销"),
}, {
    UserStatus.ACTIVE: Tone.GOOD,
    UserStatus.BANNED: Tone.BAD,
    UserStatus.DELETED: Tone.BAD,
})
