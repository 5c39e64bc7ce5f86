"""Admin forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class UserEditForm(FlaskForm):
    nickname = StringField(_l("昵称"), validators=[DataRequired(_l("必填")), Length(max=20)])
    phone = StringField(_l("手机号"), validators=[Optional()])
    email = StringField(_l("邮箱"), validators=[Optional()])


class BanForm(FlaskForm):
    reason = TextAreaField(_l("封禁原因"), validators=[DataRequired(_l("请填写封禁原因")), Length(max=200)])
    until = DateField(_l("解封日期（留空为永久）"), validators=[Optional()])


class RoleForm(FlaskForm):
    role = SelectField(_l("管理员角色"), choices=[
        ("none", _l("无")), ("operator", _l("运营")), ("finance", _l("财务")), ("super", _l("超级管理员")),
    ])
