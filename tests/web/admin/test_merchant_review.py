"""Admin review of merchant applications: the queue and its filters, the
detail, approve / reject as plain posts and with HTMX, permissions, the race
between two admins, the sidebar badge."""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.merchants.models import Merchant, MerchantApplication, MerchantMember
from app.notifications.models import Message
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def admin_client(app, make_user, login, role="operator"):
    admin = make_user(admin_role=role, nickname=f"{role}审核员")
    c = app.test_client()
    login(admin, on=c)
    return c, admin


def reload(application_id) -> MerchantApplication:
    db.session.expire_all()
    return db.session.get(MerchantApplication, application_id)


def test_anonymous_shoppers_and_finance_are_refused(app, client, make_user, make_application, login):
    application = make_application()
    base = f"/admin/merchant-applications/{application.id}"
    assert client.get("/admin/merchant-applications").status_code == 302
    assert client.post(f"{base}/approve").status_code == 302
    login(make_user())
    for path in ("/admin/merchant-applications", base):
        assert client.get(path).status_code == 403, path
    assert client.post(f"{base}/approve").status_code == 403
    assert client.post(f"{base}/reject", data={"note": "不行"}).status_code == 403
    finance, _admin = admin_client(app, make_user, login, role="finance")
    assert finance.get("/admin/merchant-applications").status_code == 200
    page = text(finance.get(base))
    assert "通过或驳回需要运营或超级管理员角色" in page and "通过并开店" not in page
    assert finance.post(f"{base}/approve").status_code == 403
    assert finance.post(f"{base}/reject", data={"fields": ["shop_name"], "note": "不行"}).status_code == 403
    assert reload(application.id).status == "submitted"
    assert db.session.scalar(sa.select(sa.func.count(Merchant.id))) == 0


def test_queue_filters_by_status_business_type_and_date(app, make_user, make_application, login):
    c, admin = admin_client(app, make_user, login)
    old = make_application(shop_name="老申请店铺", business_type="individual", company_name="")
    new = make_application(shop_name="新申请店铺")
    make_application(shop_name="已驳回店铺", status="rejected")
    make_application(shop_name="草稿店铺", status="draft")  # drafts never reach the queue
    db.session.get(MerchantApplication, old.id).submitted_at = datetime(2026, 1, 5, 3, tzinfo=UTC)
    db.session.get(MerchantApplication, new.id).submitted_at = datetime(2026, 3, 1, 3, tzinfo=UTC)
    db.session.commit()

    html = text(c.get("/admin/merchant-applications"))
    assert "老申请店铺" in html and "新申请店铺" in html
    assert "已驳回店铺" not in html and "草稿店铺" not in html
    assert html.index("老申请店铺") < html.index("新申请店铺")  # first come, first served

    def shown(query):
        page = text(c.get(f"/admin/merchant-applications?{query}", headers=HX))
        assert "<html" not in page
        return {name for name in ("老申请店铺", "新申请店铺", "已驳回店铺", "草稿店铺") if name in page}

    assert shown("business_type=individual") == {"老申请店铺"}
    assert shown("business_type=enterprise") == {"新申请店铺"}
    assert shown("since=2026-02-01") == {"新申请店铺"}
    assert shown("until=2026-01-31") == {"老申请店铺"}
    assert shown("since=2026-01-05&until=2026-01-05") == {"老申请店铺"}
    assert shown("status=rejected") == {"已驳回店铺"}
    assert shown("status=all") == {"老申请店铺", "新申请店铺", "已驳回店铺"}
    assert shown("status=bogus&since=not-a-date&business_type=alien") == {"老申请店铺", "新申请店铺"}
    assert "没有符合条件的申请" in text(c.get("/admin/merchant-applications?since=2030-01-01"))


def test_empty_queue(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    assert "暂无待审核的入驻申请" in text(c.get("/admin/merchant-applications"))


def test_queue_runs_a_fixed_number_of_queries(app, make_user, make_application, login, count_queries):
    c, _admin = admin_client(app, make_user, login)
    for _ in range(2):
        make_application()
    with count_queries() as few:
        assert c.get("/admin/merchant-applications").status_code == 200
    for _ in range(20):
        make_application()
    with count_queries() as many:
        html = text(c.get("/admin/merchant-applications"))
    assert html.count("btn btn-sm btn-brand") == 20 and "共 22 条" in html  # a full first page of 20
    assert len(many) == len(few)


def test_sidebar_badge_counts_pending_applications(app, make_user, make_application, login):
    c, _admin = admin_client(app, make_user, login)
    for _ in range(3):
        make_application()
    make_application(status="rejected")
    make_application(status="draft")
    html = text(c.get("/admin/"))
    nav = html.split('href="/admin/merchant-applications"', 1)[1].split("</a>", 1)[0]
    assert "入驻审核" in nav and ">3</span>" in nav


def test_detail_shows_fields_documents_facts_and_timeline(app, make_user, make_application, login):
    c, _admin = admin_client(app, make_user, login)
    application = make_application()
    html = text(c.get(f"/admin/merchant-applications/{application.id}"))
    for expected in ("小张的杂货铺", "福州小张贸易有限公司", "91350100M000100Y43", "张三", "139 0000 1111",
                     "食品生鲜、家居家装", "营业执照", "身份证人像面", "身份证国徽面", "注册天数", "0 天", "登录次数",
                     "订单数", "提交审核", "创建申请", "通过并开店", "驳回"):
        assert expected in html, expected
    for kind in ("licence", "id_front", "id_back"):
        assert f"/merchant/applications/{application.id}/documents/{kind}" in html
    assert 'id="doc-viewer"' in html and "data-doc-viewer" in html
    assert c.get("/admin/merchant-applications/999999").status_code == 404


def test_approve_opens_the_shop_and_the_new_owner_gets_the_console(app, client, make_user, make_application, login):
    c, admin = admin_client(app, make_user, login)
    application = make_application()
    resp = c.post(f"/admin/merchant-applications/{application.id}/approve")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/merchant-applications/{application.id}")
    page = text(c.get(resp.headers["Location"]))
    assert "已通过，店铺「小张的杂货铺」已开通" in page and "已通过，店铺已开通" in page and "审核通过" in page
    approved = reload(application.id)
    assert approved.status == "approved" and approved.decided_by_id == admin.id
    member = db.session.scalar(sa.select(MerchantMember).where(MerchantMember.user_id == application.applicant_id))
    assert member.role == "owner" and member.merchant_id == approved.merchant_id
    titles = db.session.scalars(sa.select(Message.title).where(Message.recipient_id == application.applicant_id)).all()
    assert "入驻申请已通过" in titles
    login(application.applicant)
    console = client.get("/merchant/")
    assert console.status_code == 200 and "小张的杂货铺" in text(console)
    assert "审核通过，店铺已开通" in text(client.get("/merchant/apply"))


def test_reject_with_reasons_reaches_the_applicant(app, client, make_user, make_application, login):
    c, _admin = admin_client(app, make_user, login)
    application = make_application()
    resp = c.post(f"/admin/merchant-applications/{application.id}/reject", data={
        "fields": ["licence", "contact_phone"], "reason_licence": "照片模糊", "reason_contact_phone": "",
        "reason_shop_name": "", "note": "请重新上传清晰的营业执照",
    })
    assert resp.status_code == 302
    rejected = reload(application.id)
    assert rejected.status == "rejected"
    assert rejected.rejection_reasons == {"licence": "照片模糊", "contact_phone": "请修改"}
    assert rejected.rejection_note == "请重新上传清晰的营业执照"
    page = text(c.get(resp.headers["Location"]))
    assert "已驳回，申请人会收到通知" in page and "照片模糊" in page
    login(application.applicant)
    html = text(client.get("/merchant/apply"))
    licence = html.split('name="licence"', 1)[1].split('name="id_front"', 1)[0]
    assert "审核意见：照片模糊" in licence and "请重新上传清晰的营业执照" in html


def test_reject_needs_a_field_or_a_note_and_keeps_the_input(app, make_user, make_application, login):
    c, _admin = admin_client(app, make_user, login)
    application = make_application()
    url = f"/admin/merchant-applications/{application.id}/reject"
    resp = c.post(url, data={"note": "   "})
    assert resp.status_code == 422 and "请选择有问题的字段或填写驳回说明" in text(resp)
    partial = c.post(url, data={"note": ""}, headers=HX)
    assert partial.status_code == 200 and "<html" not in text(partial) and 'id="decision-panel"' in text(partial)
    assert "请选择有问题的字段或填写驳回说明" in text(partial) and toast(partial)["level"] == "danger"
    assert reload(application.id).status == "submitted"


def test_htmx_decisions_swap_the_panel_and_toast(app, make_user, make_application, login):
    c, _admin = admin_client(app, make_user, login)
    first, second = make_application(), make_application()
    resp = c.post(f"/admin/merchant-applications/{first.id}/approve", headers=HX)
    html = text(resp)
    assert resp.status_code == 200 and "<html" not in html
    assert 'id="decision-panel"' in html and "已通过，店铺已开通" in html
    assert 'id="application-timeline" hx-swap-oob="true"' in html and 'id="application-status" class="align-middle" hx-swap-oob="true"' in html
    assert toast(resp) == {"message": "已通过，店铺「小张的杂货铺」已开通", "level": "success"}

    resp = c.post(f"/admin/merchant-applications/{second.id}/reject", headers=HX,
                  data={"fields": ["shop_name"], "reason_shop_name": "与已有店铺重名"})
    assert resp.status_code == 200 and "与已有店铺重名" in text(resp) and "已驳回，等待申请人修改后重新提交" in text(resp)
    assert toast(resp)["message"] == "已驳回，申请人会收到通知"
    assert reload(second.id).status == "rejected"


def test_the_second_admin_is_told_it_was_already_decided(app, make_user, make_application, login):
    first, _a = admin_client(app, make_user, login)
    late, _b = admin_client(app, make_user, login)
    application = make_application()
    assert "通过并开店" in text(late.get(f"/admin/merchant-applications/{application.id}"))  # B opens the page
    assert first.post(f"/admin/merchant-applications/{application.id}/approve").status_code == 302
    # B's reject, as a plain post and with HTMX: a clear message, no 500, nothing changed
    resp = late.post(f"/admin/merchant-applications/{application.id}/reject", data={"note": "资料不全"})
    assert resp.status_code == 302
    assert "已被其他管理员处理" in text(late.get(resp.headers["Location"]))
    resp = late.post(f"/admin/merchant-applications/{application.id}/approve", headers=HX)
    assert resp.status_code == 200 and toast(resp) == {"message": "已被其他管理员处理", "level": "warning"}
    assert "已通过，店铺已开通" in text(resp)
    assert reload(application.id).status == "approved"
    assert db.session.scalar(sa.select(sa.func.count(Merchant.id))) == 1
    # the winner clicking again is told they already did it
    again = first.post(f"/admin/merchant-applications/{application.id}/approve", headers=HX)
    assert toast(again)["message"] == "这份申请你已经处理过了"


def test_a_draft_cannot_be_decided(app, make_user, make_application, login):
    c, _admin = admin_client(app, make_user, login)
    application = make_application(status="draft")
    assert "申请人还在填写" in text(c.get(f"/admin/merchant-applications/{application.id}"))
    resp = c.post(f"/admin/merchant-applications/{application.id}/approve", headers=HX)
    assert toast(resp)["message"] == "申请还没有提交，不能审核"
    assert reload(application.id).status == "draft"
    assert c.post("/admin/merchant-applications/999999/approve").status_code == 404


def test_waiting_time_is_shown(app, make_user, make_application, login):
    c, _admin = admin_client(app, make_user, login)
    application = make_application()
    db.session.get(MerchantApplication, application.id).submitted_at = datetime.now(UTC) - timedelta(days=4)
    db.session.commit()
    assert "已等待 4 天" in text(c.get("/admin/merchant-applications"))


def test_approving_a_name_taken_meanwhile_is_refused_cleanly(app, make_user, make_application, login):
    c, _admin = admin_client(app, make_user, login)
    first, second = make_application(), make_application()  # both ask for 小张的杂货铺
    assert c.post(f"/admin/merchant-applications/{first.id}/approve").status_code == 302
    resp = c.post(f"/admin/merchant-applications/{second.id}/approve", headers=HX)
    assert resp.status_code == 200 and toast(resp)["level"] == "danger"
    assert "店铺名称已被其他店铺使用" in toast(resp)["message"] and "通过并开店" in text(resp)
    assert reload(second.id).status == "submitted"
    assert db.session.scalar(sa.select(sa.func.count(Merchant.id))) == 1
