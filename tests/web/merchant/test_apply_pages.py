"""商家入驻 through the pages: draft, submit, inline errors, wrong files, the
status timeline, rejection reasons by the fields, resubmission, and who may
open the documents."""
import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.merchants.models import MerchantApplication
from tests.factories import application_data, png_bytes
from tests.web.helpers import text


def post_apply(client, action="save", files=None, **overrides):
    data = {**application_data(), **overrides, "action": action}
    for kind, content in (files or {}).items():
        data[kind] = (io.BytesIO(content), f"{kind}.png")
    return client.post("/merchant/apply", data=data, content_type="multipart/form-data")


ALL_DOCS = {"licence": png_bytes(), "id_front": png_bytes(color=(0, 0, 255)), "id_back": png_bytes(fmt="JPEG")}


def applications_of(user):
    db.session.expire_all()
    return db.session.scalars(sa.select(MerchantApplication).where(MerchantApplication.applicant_id == user.id)).all()


def test_pages_need_sign_in(client, make_application):
    application = make_application()
    for path in ("/merchant/apply", f"/merchant/applications/{application.id}/documents/licence"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    assert client.post("/merchant/apply", data={"action": "save"}).status_code == 302
    assert len(applications_of(application.applicant)) == 1


def test_landing_links_to_the_application(client, make_user, login):
    login(make_user())
    assert 'href="/merchant/apply"' in text(client.get("/merchant/"))
    start = text(client.get("/merchant/apply"))
    assert "开始申请" in start and 'name="shop_name"' not in start
    form = text(client.get("/merchant/apply?new=1"))
    for name in ("shop_name", "business_type", "company_name", "credit_code", "legal_representative",
                 "contact_name", "contact_phone", "main_categories", "licence", "id_front", "id_back"):
        assert f'name="{name}"' in form, name
    assert form.count('name="main_categories"') == 10  # every main category as a checkbox


def test_draft_incomplete_submit_then_submit(client, make_user, login):
    user = make_user()
    login(user)
    # 1. Save a draft with just a name.
    resp = client.post("/merchant/apply", data={"action": "save", "shop_name": "半成品小店"},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    [draft] = applications_of(user)
    assert draft.status == "draft" and draft.shop_name == "半成品小店"
    page = text(client.get("/merchant/apply"))
    assert 'value="半成品小店"' in page and "草稿已保存" in page and "创建申请" in page

    # 2. Submitting without the documents: the typed fields are kept, the missing ones are marked inline.
    resp = post_apply(client, "submit", files={"licence": png_bytes()})
    assert resp.status_code == 422
    html = text(resp)
    assert "草稿已保存，还不能提交" in html
    assert html.count("请上传图片") == 2  # id_front and id_back, each under its upload
    assert 'value="福州小张贸易有限公司"' in html
    [draft] = applications_of(user)
    assert draft.status == "draft" and draft.licence_key and not draft.id_front_key
    assert draft.company_name == "福州小张贸易有限公司"

    # 3. The rest of the documents, then submit.
    resp = post_apply(client, "submit", files={"id_front": png_bytes(), "id_back": png_bytes(fmt="WEBP")})
    assert resp.status_code == 302
    [application] = applications_of(user)
    assert application.status == "submitted" and application.submitted_at
    assert [e.to_status for e in application.events] == ["draft", "submitted"]
    page = text(client.get("/merchant/apply"))
    assert "资料审核中" in page and "提交审核" in page and "已提交审核" in page
    assert 'name="shop_name"' not in page  # no form while in review

    served = client.get(f"/merchant/applications/{application.id}/documents/id_back")
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert served.headers["Cache-Control"] == "private, no-store"
    with Image.open(io.BytesIO(served.data)) as document:  # a re-encoding of the upload, not its bytes
        assert document.format == "WEBP" and document.size == Image.open(io.BytesIO(png_bytes(fmt="WEBP"))).size


def test_submit_without_anything_marks_every_field(client, make_user, login):
    login(make_user())
    resp = client.post("/merchant/apply", data={"action": "submit"}, content_type="multipart/form-data")
    assert resp.status_code == 422
    html = text(resp)
    assert html.count("必填") >= 6 and "请选择 1 到 3 个主营类目" in html and html.count("请上传图片") == 3


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")  # small file, 400 megapixels
    return buf.getvalue()


@pytest.mark.parametrize("kind,content,message", [
    ("licence", b"just some text renamed to .png", "只支持 JPEG、PNG 或 WebP 图片"),
    ("id_front", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "只支持 JPEG、PNG 或 WebP 图片"),
    ("id_back", "bomb", "图片像素过大"),
    ("licence", "oversize", "图片不能超过 5 MB"),
])
def test_wrong_files_are_refused_and_change_nothing(client, make_user, login, make_application, kind, content, message):
    user = make_user()
    application = make_application(applicant=user, status="draft")
    before = {k: application.document_key(k) for k in ("licence", "id_front", "id_back")}
    login(user)
    if content == "bomb":
        content = _bomb()
    elif content == "oversize":
        content = png_bytes() + b"\0" * (5 * 1024 * 1024 + 1)
    files = {**ALL_DOCS, kind: content}
    resp = post_apply(client, "save", files=files, shop_name="改了名字")
    assert resp.status_code == 422
    html = text(resp)
    assert message in html and "本次没有保存" in html and "请重新选择" in html
    # the message sits in the upload it belongs to
    block = html.split(f'name="{kind}"', 1)[1].split("doc-upload ", 1)[0]
    assert message in block
    [saved] = applications_of(user)
    assert saved.shop_name == application.shop_name
    assert {k: saved.document_key(k) for k in before} == before


def test_invalid_credit_code_is_an_inline_error_and_saves_nothing(client, make_user, login):
    user = make_user()
    login(user)
    resp = post_apply(client, "save", credit_code="91350100M000100Y44")
    assert resp.status_code == 422
    html = text(resp)
    field = html.split('name="credit_code"', 1)[1].split('name="legal_representative"', 1)[0]
    assert "统一社会信用代码无效" in field and 'value="91350100M000100Y44"' in html
    assert applications_of(user) == []


def test_a_second_open_application_is_refused(client, make_application, login):
    application = make_application(status="submitted")
    login(application.applicant)
    resp = post_apply(client, "submit", files=ALL_DOCS, shop_name="第二家店")
    assert resp.status_code == 302
    page = text(client.get(resp.headers["Location"]))
    assert "申请正在审核中，审核结束前不能修改" in page and "资料审核中" in page
    [only] = applications_of(application.applicant)
    assert only.id == application.id and only.shop_name == application.shop_name
    # ?new=1 does not open a second form while one is in review
    assert 'name="shop_name"' not in text(client.get("/merchant/apply?new=1"))


def test_documents_are_only_for_the_applicant_and_admins(app, client, make_application, make_user, login):
    application = make_application()
    url = f"/merchant/applications/{application.id}/documents/licence"
    login(make_user())
    assert client.get(url).status_code == 404
    assert client.get(f"/merchant/applications/{application.id}/documents/id_front").status_code == 404
    for role, expected in (("finance", 200), ("operator", 200), ("super", 200)):
        c = app.test_client()
        login(make_user(admin_role=role), on=c)
        assert c.get(url).status_code == expected, role
    owner = app.test_client()
    login(application.applicant, on=owner)
    assert owner.get(url).status_code == 200
    assert owner.get(f"/merchant/applications/{application.id}/documents/passport").status_code == 404
    assert owner.get("/merchant/applications/999999/documents/licence").status_code == 404


def test_rejected_shows_reasons_by_the_fields_then_resubmit_keeps_history(client, make_application, login):
    application = make_application(status="rejected")  # credit_code: 与营业执照不一致, note 请核对信用代码
    login(application.applicant)
    html = text(client.get("/merchant/apply"))
    assert "审核未通过，请修改后重新提交" in html and "请核对信用代码" in html
    field = html.split('name="credit_code"', 1)[1].split('name="legal_representative"', 1)[0]
    assert "审核意见：与营业执照不一致" in field
    assert html.count("审核意见：") == 1
    assert "审核未通过" in html.split("申请进度", 1)[1]  # and in the timeline

    resp = post_apply(client, "submit", credit_code="91110000600037341L")
    assert resp.status_code == 302
    [resubmitted] = applications_of(application.applicant)
    assert resubmitted.id == application.id and resubmitted.status == "submitted"
    assert resubmitted.credit_code == "91110000600037341L"
    assert [e.to_status for e in resubmitted.events] == ["draft", "submitted", "rejected", "submitted"]
    page = text(client.get("/merchant/apply"))
    assert "修改后重新提交" in page and "与营业执照不一致" in page  # the earlier rejection stays in the timeline


def test_approved_outcome_then_history_of_past_applications(client, make_application, make_user, login):
    from app.core.db import transaction
    from app.merchants import applications

    application = make_application()
    with transaction():
        applications.approve(make_user(admin_role="operator"), application.id)
    login(application.applicant)
    html = text(client.get("/merchant/apply"))
    assert "「小张的杂货铺」已开通" in html and "审核通过，店铺已开通" in html and "进入商家中心" in html
    assert "再申请一家店铺" in html and "历史申请" not in html
    # a second shop: the new draft's page lists the approved one under history
    assert post_apply(client, "save", shop_name="第二家店").status_code == 302
    html = text(client.get("/merchant/apply"))
    assert 'value="第二家店"' in html
    history = html.split("历史申请", 1)[1]
    assert "小张的杂货铺" in history and "已通过" in history
    assert re.search(r"提交于 \d{4}-\d{2}-\d{2}", history)


def test_a_shop_name_already_in_use_is_marked_on_the_field(client, make_user, make_merchant, login):
    make_merchant(name="小张的杂货铺")
    user = make_user()
    login(user)
    resp = post_apply(client, "submit", files=ALL_DOCS)
    assert resp.status_code == 422
    field = text(resp).split('name="shop_name"', 1)[1].split('name="main_categories"', 1)[0]
    assert "店铺名称已被使用" in field
    [draft] = applications_of(user)
    assert draft.status == "draft"  # saved, not submitted
