"""Message templates: SMS texts by template key, mail bodies from
`templates/emails/<template>.txt` and `.html`. SMS text is kept short and in
Chinese because that is what carriers accept for the registered signature."""
from __future__ import annotations

SMS_TEMPLATES: dict[str, str] = {
    "verification_code": "您的验证码是{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
    "notice": "{text}",
    "aftersale_approved": "您的售后申请{no}已同意，{next}",
    "aftersale_refunded": "您的售后申请{no}已退款{yuan}元，将原路退回支付账户。",
    # Marketing (segment messages): carriers require the opt-out words in every marketing text.
    "marketing": "{text} 拒收请回复R",
}

# Templates whose text is useless after a while, and the param that says how many
# minutes: the resend sweep never sends such a message late (a code that expired).
VALID_FOR_MINUTES_PARAM: dict[str, str] = {"verification_code": "minutes"}

MAIL_SUBJECTS: dict[str, str] = {
    "register_link": "完成注册",
    "account_exists": "你已经注册过了",
    "reset_link": "重置密码",
    "bind_email": "验证你的邮箱",
    "notice": "通知",
}


def render_sms(template: str, params: dict) -> str:
    return SMS_TEMPLATES[template].format(**params)
