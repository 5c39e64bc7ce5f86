"""Shop forms. Field names are the API's field names."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.validators import ValidationError as FieldError

REQUIRED = _l("必填")


class PasswordLoginForm(FlaskForm):
    account = StringField(_l("手机号或邮箱"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("密码"), validators=[DataRequired(REQUIRED), Length(max=128)])
    remember = BooleanField(_l("记住我"))


class SmsLoginForm(FlaskForm):
    phone = StringField(_l("手机号"), validators=[DataRequired(REQUIRED)])
    code = StringField(_l("验证码"), validators=[DataRequired(REQUIRED), Length(max=6)])


class TermsConsentForm(FlaskForm):
    """The "I agree to the user agreement and privacy policy" box every registration
    asks for, unticked until the person ticks it (accounts.consent checks it again)."""

    agree_terms = BooleanField(_l("我已阅读并同意《用户协议》和《隐私政策》"))

    def validate_agree_terms(self, field):
        if not field.data:
            raise FieldError(_l("请阅读并同意《用户协议》和《隐私政策》"))


class PhoneRegisterForm(TermsConsentForm):
    phone = StringField(_l("手机号"), validators=[DataRequired(REQUIRED)])
    code = StringField(_l("验证码"), validators=[DataRequired(REQUIRED), Length(max=6)])
    password = PasswordField(_l("设置密码"), validators=[DataRequired(REQUIRED)])


class EmailStartForm(FlaskForm):
    email = StringField(_l("邮箱"), validators=[DataRequired(REQUIRED), Length(max=254)])


class SetPasswordForm(FlaskForm):
    token = HiddenField()
    password = PasswordField(_l("设置密码"), validators=[DataRequired(REQUIRED)])


class EmailRegisterForm(SetPasswordForm, TermsConsentForm):
    """Finishing an email registration: the password and the consent."""


class SmsResetForm(FlaskForm):
    phone = StringField(_l("手机号"), validators=[DataRequired(REQUIRED)])
    code = StringField(_l("验证码"), validators=[DataRequired(REQUIRED), Length(max=6)])
    password = PasswordField(_l("新密码"), validators=[DataRequired(REQUIRED)])


class ProfileForm(FlaskForm):
    nickname = StringField(_l("昵称"), validators=[DataRequired(REQUIRED), Length(max=20)])
    avatar = FileField(_l("头像"))
    accepts_marketing = BooleanField(_l("接收平台和店铺的活动、优惠消息"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"))
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(REQUIRED)])


class DeleteAccountForm(FlaskForm):
    """注销账号: who confirms (password, or an SMS code without one) and that they understood."""

    password = PasswordField(_l("登录密码"))
    code = StringField(_l("验证码"), validators=[Length(max=6)])
    understood = BooleanField(_l("我已了解：注销后账号无法恢复，个人信息将被删除"))

    def validate_understood(self, field):
        if not field.data:
            raise FieldError(_l("请确认你已了解注销的后果"))


class BindPhoneForm(FlaskForm):
    phone = StringField(_l("手机号"), validators=[DataRequired(REQUIRED)])
    code = StringField(_l("验证码"), validators=[DataRequired(REQUIRED), Length(max=6)])


class AddressForm(FlaskForm):
    recipient = StringField(_l("收货人"), validators=[DataRequired(REQUIRED), Length(max=20)])
    phone = StringField(_l("手机号"), validators=[DataRequired(REQUIRED)])
    province_code = StringField(_l("省份"), validators=[DataRequired(REQUIRED)])
    city_code = StringField(_l("城市"), validators=[DataRequired(REQUIRED)])
    district_code = StringField(_l("区县"), validators=[DataRequired(REQUIRED)])
    detail = StringField(_l("详细地址"), validators=[DataRequired(REQUIRED), Length(max=120)])
    is_default = BooleanField(_l("设为默认地址"))


class ReviewForm(FlaskForm):
    # 1–5 stars, drawn as radio buttons; the service says when none is chosen.
    rating = StringField(_l("评分"))
    text = TextAreaField(_l("评价内容"), validators=[Length(max=500)])
    images = MultipleFileField(_l("晒图"))
    anonymous = BooleanField(_l("匿名评价"))
