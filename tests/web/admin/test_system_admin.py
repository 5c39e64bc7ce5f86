"""Admin system pages: the audit log's action filter."""
from app.core import audit
from app.core.db import transaction


def test_the_audit_action_filter_is_a_prefix_with_no_wildcards(app, make_user, login):
    """`%` and `_` in the filter used to be LIKE wildcards: `%` listed every row."""
    admin = make_user(admin_role="super")
    with transaction():
        audit.record(admin, "user.ban", ("User", 1))
        audit.record(admin, "settings.update", ("PlatformSetting", 1))
    c = app.test_client()
    login(admin, on=c)

    def actions(prefix):
        html = c.get("/admin/audit", query_string={"action": prefix}).get_data(as_text=True)
        return {a for a in ("user.ban", "settings.update") if f"<code>{a}</code>" in html}

    assert actions("user.") == {"user.ban"}
    assert actions("") == {"user.ban", "settings.update"}
    assert actions("%") == set()
    assert actions("user_ban") == set()
