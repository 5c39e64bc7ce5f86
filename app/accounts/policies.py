"""Who may do what with accounts. Later issues reuse `has_admin_role` and the
decorators in `app.web.auth` for merchant staff and distributors."""
from __future__ import annotations

from app.accounts.states import USER_LIFECYCLE, AdminRole

# What each admin area needs. `super` may do everything.
ADMIN_PERMISSIONS: dict[str, set[str]] = {
    "users.view": {AdminRole.OPERATOR, AdminRole.FINANCE},
    "users.edit": {AdminRole.OPERATOR},
    "users.ban": {AdminRole.OPERATOR},
    "admins.manage": set(),  # super only
    "settings.edit": set(),  # super only
    "jobs.view": {AdminRole.OPERATOR},
    "jobs.retry": {AdminRole.OPERATOR},
    "audit.view": {AdminRole.OPERATOR, AdminRole.FINANCE},
    "merchants.view": {AdminRole.OPERATOR, AdminRole.FINANCE},
    "merchants.review": {AdminRole.OPERATOR},
    "merchants.penalise": {AdminRole.OPERATOR},
    "catalog.view": {AdminRole.OPERATOR, AdminRole.FINANCE},  # the category tree (finance sets its fees)
    "catalog.manage": {AdminRole.OPERATOR},
    "products.review": {AdminRole.OPERATOR},
    "orders.view": {AdminRole.OPERATOR, AdminRole.FINANCE},
    "orders.refund": {AdminRole.OPERATOR},  # the platform's cancel-and-refund
    "payments.view": {AdminRole.OPERATOR, AdminRole.FINANCE},
    "refunds.settle": {AdminRole.FINANCE},  # record a refund paid back outside the gateway
    "reviews.moderate": {AdminRole.OPERATOR},
    "aftersales.view": {AdminRole.OPERATOR, AdminRole.FINANCE},
    "aftersales.rule": {AdminRole.OPERATOR},  # rule on disputes and write in their threads
    "distribution.view": {AdminRole.OPERATOR, AdminRole.FINANCE},
    "distribution.manage": {AdminRole.OPERATOR},
    "withdrawals.manage": {AdminRole.FINANCE},
    # The platform's fee rates (categories', a shop's own) are money: finance only, not the
    # operators who edit the category tree.
    "fees.edit": {AdminRole.FINANCE},
    "stats.view": {AdminRole.OPERATOR, AdminRole.FINANCE},  # the platform's sales figures
    # 数据报表: files of every shop's orders, after-sales and commissions (buyers masked) leave
    # the platform with them, so only finance (and super admins) export; operators see the dashboards.
    "reports.export": {AdminRole.FINANCE},
    "segments.message": {AdminRole.OPERATOR},  # marketing messages to a customer segment
    # 财务: the money figures and reconciliation (对账) are finance's (and super admins'), not operators'.
    "finance.view": {AdminRole.FINANCE},
    "finance.reconcile": {AdminRole.FINANCE},  # run a reconciliation, mark a difference handled
    "flashsales.manage": {AdminRole.OPERATOR},  # 秒杀: platform events, merchants' requests reviewed
}


def has_admin_role(user, *roles: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.admin_role != AdminRole.NONE and (not roles or user.admin_role in roles)


def role_can(role: str | None, permission: str) -> bool:
    """Does admin role `role` grant `permission`? (For actors that carry their role,
    such as after-sales' `Actor`.) Super admins may do everything."""
    if role in (None, AdminRole.NONE):
        return False
    return role == AdminRole.SUPER or role in ADMIN_PERMISSIONS.get(permission, set())


def can(user, permission: str) -> bool:
    """May this admin do `permission`? Super admins may do everything."""
    if not has_admin_role(user):
        return False
    return role_can(user.admin_role, permission)


def can_edit_user(actor, target) -> bool:
    """Operators manage shoppers; only a super admin touches another admin."""
    if not can(actor, "users.edit"):
        return False
    return actor.admin_role == AdminRole.SUPER or target.admin_role == AdminRole.NONE


def may_ban(actor, target) -> bool:
    """May this admin ban or unban `target`: operators ban shoppers, a super admin anyone."""
    return can(actor, "users.ban") and can_edit_user(actor, target)


# The account acts an admin does; `delete` is the owner's alone (accounts.deletion).
ADMIN_USER_ACTS = ("ban", "unban")


def actions_for(target, actor) -> tuple[str, ...]:
    """What `actor` may do to account `target` now: the admin acts USER_LIFECYCLE allows
    from its status, for an admin who may ban this account, never to their own."""
    if not may_ban(actor, target) or actor.id == target.id:
        return ()
    return tuple(a for a in USER_LIFECYCLE.acts_from(target.status) if a in ADMIN_USER_ACTS)
