"""Staff management: invite by phone, remove, HTMX and plain posts, and every
way someone else might try to change another shop's staff."""
import sqlalchemy as sa

from app.extensions import db
from app.merchants.models import MerchantMember
from app.notifications.models import Message


def members_of(merchant_id):
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == merchant_id)))


def owner_client(app, make_user, make_merchant, login, **fields):
    owner = make_user()
    merchant = make_merchant(owner=owner, **fields)
    return login(owner, on=app.test_client()), owner, merchant


def add_staff(merchant, user):
    member = MerchantMember(merchant_id=merchant.id, user_id=user.id, role="staff")
    db.session.add(member)
    db.session.commit()
    return member


def test_owner_lists_members_owner_first(app, make_user, make_merchant, login):
    c, owner, merchant = owner_client(app, make_user, make_merchant, login)
    add_staff(merchant, make_user(nickname="小李"))
    html = c.get("/merchant/staff").get_data(as_text=True)
    assert html.index(owner.display_name) < html.index("小李")
    assert "店主" in html and "移除" in html


def test_invite_by_phone_with_a_plain_post(app, make_user, make_merchant, login):
    c, owner, merchant = owner_client(app, make_user, make_merchant, login, name="招人的店")
    newcomer = make_user(phone="13811112222", nickname="新店员")
    response = c.post("/merchant/staff/invite", data={"phone": "138 1111 2222"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/merchant/staff")
    assert members_of(merchant.id) == sorted([owner.id, newcomer.id])
    assert "已添加店员 新店员" in c.get("/merchant/staff").get_data(as_text=True)
    note = db.session.scalar(sa.select(Message).where(Message.recipient_id == newcomer.id))
    assert note is not None and "招人的店" in note.title
    # The new staff member opens the console for that shop at once.
    staff_home = login(newcomer, on=app.test_client()).get("/merchant/").get_data(as_text=True)
    assert "招人的店" in staff_home


def test_invite_with_htmx_inserts_a_row_and_resets_the_form(app, make_user, make_merchant, login):
    c, _owner, merchant = owner_client(app, make_user, make_merchant, login)
    make_user(phone="13822223333", nickname="插入行")
    response = c.post("/merchant/staff/invite", data={"phone": "13822223333"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith("<tr") and "插入行" in html
    assert 'id="invite-form"' in html and 'hx-swap-oob="true"' in html
    assert "toast" in response.headers["HX-Trigger"]
    assert len(members_of(merchant.id)) == 2


def test_invite_errors_keep_the_phone_and_add_nobody(app, make_user, make_merchant, login):
    c, owner, merchant = owner_client(app, make_user, make_merchant, login)
    existing = make_user(phone="13833334444")
    add_staff(merchant, existing)
    cases = {
        "13899998888": "这个手机号还没有注册",
        "12345": "请输入正确的 11 位手机号",
        "13833334444": "对方已经是本店成员",
        owner.phone[3:]: "对方已经是本店成员",
    }
    for phone, message in cases.items():
        response = c.post("/merchant/staff/invite", data={"phone": phone})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html and f'value="{phone}"' in html, phone
        htmx = c.post("/merchant/staff/invite", data={"phone": phone}, headers={"HX-Request": "true"})
        assert htmx.headers["HX-Retarget"] == "#invite-form" and message in htmx.get_data(as_text=True), phone
    assert members_of(merchant.id) == sorted([owner.id, existing.id])


def test_remove_staff_with_a_plain_post_and_with_htmx(app, make_user, make_merchant, login):
    c, owner, merchant = owner_client(app, make_user, make_merchant, login)
    first, second = make_user(), make_user()
    first_member, second_member = add_staff(merchant, first), add_staff(merchant, second)
    response = c.post(f"/merchant/staff/{first_member.id}/remove")
    assert response.status_code == 302
    htmx = c.post(f"/merchant/staff/{second_member.id}/remove", headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx.get_data(as_text=True) == "" and "toast" in htmx.headers["HX-Trigger"]
    assert members_of(merchant.id) == [owner.id]
    assert "已不再是" in db.session.scalar(sa.select(Message.title).where(Message.recipient_id == first.id))


def test_the_owner_cannot_be_removed(app, make_user, make_merchant, login):
    c, owner, merchant = owner_client(app, make_user, make_merchant, login)
    owner_member = db.session.scalar(sa.select(MerchantMember).where(MerchantMember.user_id == owner.id))
    response = c.post(f"/merchant/staff/{owner_member.id}/remove", headers={"Referer": "/merchant/staff"})
    assert response.status_code == 302
    assert "不能移除店主" in c.get("/merchant/staff").get_data(as_text=True)
    assert members_of(merchant.id) == [owner.id]


def test_an_owner_cannot_remove_another_shops_staff_by_member_id(app, make_user, make_merchant, login):
    _c, _owner, victim_shop = owner_client(app, make_user, make_merchant, login)
    victim_staff = make_user()
    victim_member = add_staff(victim_shop, victim_staff)
    attacker, _attacker_owner, _attacker_shop = owner_client(app, make_user, make_merchant, login)
    assert attacker.post(f"/merchant/staff/{victim_member.id}/remove").status_code == 404
    assert attacker.post(f"/merchant/staff/{victim_member.id}/remove", headers={"HX-Request": "true"}).status_code in (200, 404)
    assert victim_staff.id in members_of(victim_shop.id)


def test_staff_cannot_manage_staff_and_outsiders_cannot_reach_the_page(app, make_user, make_merchant, login):
    _c, owner, merchant = owner_client(app, make_user, make_merchant, login)
    staff, colleague = make_user(), make_user(phone="13844445555")
    add_staff(merchant, staff)
    colleague_member = add_staff(merchant, colleague)
    s = login(staff, on=app.test_client())
    assert s.get("/merchant/staff").status_code == 403
    assert s.post("/merchant/staff/invite", data={"phone": "13900001234"}).status_code == 403
    assert s.post(f"/merchant/staff/{colleague_member.id}/remove").status_code == 403
    outsider = login(make_user(), on=app.test_client())
    assert outsider.post(f"/merchant/staff/{colleague_member.id}/remove").status_code == 302  # no shop: to the landing
    assert outsider.post("/merchant/staff/invite", data={"phone": "13900001234"}).status_code == 302
    assert members_of(merchant.id) == sorted([owner.id, staff.id, colleague.id])


def test_staff_of_a_shop_cannot_add_themselves_to_another(app, make_user, make_merchant, login):
    """Staff of A whose session names B (a shop they do not belong to) get a 404 and change nothing."""
    _c, _owner_a, shop_a = owner_client(app, make_user, make_merchant, login)
    _c2, owner_b, shop_b = owner_client(app, make_user, make_merchant, login)
    staff = make_user(phone="13855556666")
    add_staff(shop_a, staff)
    s = login(staff, on=app.test_client())
    with s.session_transaction() as session:
        session["merchant_id"] = shop_b.id
    assert s.post("/merchant/staff/invite", data={"phone": "13855556666"}).status_code == 404
    assert members_of(shop_b.id) == [owner_b.id]
