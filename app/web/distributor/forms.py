"""Distributor centre forms. Field names are the services' (and the API's) names;
the services validate, these only carry the input and its errors."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import Length

from app.distribution.labels import METHOD_LABELS


class ApplyForm(FlaskForm):
    real_name = StringField(_l("真实姓名"), validators=[Length(max=40)])
    phone = StringField(_l("手机号"), validators=[Length(max=20)])
    reason = TextAreaField(_l("申请理由（选填）"), validators=[Length(max=600)])


class WithdrawForm(FlaskForm):
    amount = StringField(_l("提现金额（元）"), validators=[Length(max=20)])
    method = RadioField(_l("提现方式"), choices=[], validate_choice=False)
    account_name = StringField(_l("收款人姓名"), validators=[Length(max=40)])
    account_no = StringField(_l("收款账号"), validators=[Length(max=60)])
    bank_name = StringField(_l("开户银行"), validators=[Length(max=60)])
    confirm = HiddenField()

    def set_methods(self, methods: list[str]) -> None:
        self.method.choices = [(m, METHOD_LABELS.get(m, m)) for m in methods]
        if not self.method.data and methods:
            self.method.data = methods[0]

    def service_data(self) -> dict:
        return {"amount": (self.amount.data or "").strip(), "method": self.method.data or "",
                "account_name": self.account_name.data or "", "account_no": self.account_no.data or "",
                "bank_name": self.bank_name.data or ""}
