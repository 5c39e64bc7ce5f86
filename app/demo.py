"""Demo data for the embedded default and for trying the product (`flask seed-demo`).

Idempotent: accounts are found by phone and left as they are when present.
"""
from __future__ import annotations

import io
import os
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

from app import demo_history
from app.accounts import addresses
from app.accounts.models import Address, User
from app.accounts.services import find_by_phone, hash_password
from app.accounts.states import AdminRole
from app.aftersales import applications as aftersale_applications
from app.aftersales import disputes
from app.aftersales import policies as aftersale_policies
from app.aftersales import services as aftersales
from app.aftersales.models import AfterSale
from app.analytics import rollups, settled_days
from app.analytics.models import Event, SalesDay
from app.analytics.segments import runs as segment_runs
from app.analytics.tasks import recompute_rules
from app.catalog import product_form, product_input, product_review
from app.catalog import products as product_service
from app.catalog.models import Category, Product, Sku
from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.core.money import fen_to_yuan
from app.core.storage import save_image
from app.distribution import distributors, referrals
from app.distribution import rules as distribution_rules
from app.extensions import db
from app.flashsales import policies
from app.flashsales import services as flash_sale_services
from app.flashsales.models import FlashSale
from app.merchants.models import ApplicationEvent, Merchant, MerchantAddress, MerchantApplication, MerchantMember
from app.merchants.states import ApplicationStatus
from app.notifications import services as notifications
from app.orders import checkout, reviews, shipping
from app.orders import services as order_services
from app.orders.models import Order
from app.payments import services as payments

DEMO_PASSWORD = "demo1234"

DEMO_USERS = [
    # (role label, phone, email, nickname, admin role)
    ("super", "13800000001", "admin@demo.shop", "平台管理员", AdminRole.SUPER),
    ("operator", "13800000002", "ops@demo.shop", "运营小王", AdminRole.OPERATOR),
    ("finance", "13800000003", "finance@demo.shop", "财务小李", AdminRole.FINANCE),
    ("shopper", "13900000001", "buyer@demo.shop", "爱逛街的小张", AdminRole.NONE),
    ("shopper", "13900000002", None, "数码控老陈", AdminRole.NONE),
    ("merchant", "13700000001", "shop@demo.shop", "鲜果铺掌柜", AdminRole.NONE),
    ("merchant", "13700000003", None, "极客数码店长", AdminRole.NONE),
    ("merchant", "13700000004", None, "优选生活馆店长", AdminRole.NONE),
    ("applicant", "13700000002", None, "想开店的小周", AdminRole.NONE),
]


def seed_demo() -> list[tuple[str, str, str]]:
    logins = []
    with transaction():
        for label, phone, email, nickname, role in DEMO_USERS:
            e164 = "+86" + phone
            user = find_by_phone(e164)
            if user is None:
                user = User(phone=e164, email=email, nickname=nickname, admin_role=role,
                            password_hash=hash_password(DEMO_PASSWORD))
                db.session.add(user)
                db.session.flush()
                notifications.notify(user.id, "欢迎来到多用户商城", "这是一个演示账号，可以随意体验。", kind="system")
            logins.append((label, phone, DEMO_PASSWORD))
        shopper = find_by_phone("+8613900000001")
        has_address = db.session.scalar(sa.select(sa.func.count(Address.id)).where(Address.user_id == shopper.id))
        if not has_address:
            addresses.add(shopper.id, {
                "recipient": "张小姐", "phone": "13900000001", "province_code": "310000",
                "city_code": "310100", "district_code": "310104", "detail": "漕溪北路 88 号 12 楼", "is_default": True,
            })
        _seed_merchants()
    _seed_catalog()
    _seed_distribution()
    _seed_orders()
    _seed_aftersales()
    demo_history.seed()
    _fill_rollups()
    _seed_bought_together()
    _seed_segments()
    settled_days.settle_due(limit=None)  # the days past settling, as the hourly job would
    _seed_flash_sales()
    return logins


def _seed_merchants() -> None:
    """One open shop (owner 13700000001) and one application waiting for review."""
    owner = find_by_phone("+8613700000001")
    if not db.session.scalar(sa.select(sa.func.count(MerchantMember.id)).where(MerchantMember.user_id == owner.id)):
        merchant = Merchant(
            name="鲜果铺", business_type="enterprise", company_name="上海鲜果贸易有限公司",
            credit_code="91350100M000100Y43", contact_name="王掌柜", contact_phone="+8613700000001",
            main_categories=["食品生鲜"], description="产地直采的当季水果，次日达。",
            return_recipient="王掌柜", return_phone="+8613700000001", return_address="上海市浦东新区张江路 100 号",
            shipping_flat_fen=800, free_shipping_threshold_fen=9900,
        )
        db.session.add(merchant)
        db.session.flush()
        db.session.add(MerchantMember(merchant_id=merchant.id, user_id=owner.id, role="owner"))
    applicant = find_by_phone("+8613700000002")
    if not db.session.scalar(sa.select(sa.func.count(MerchantApplication.id))
                             .where(MerchantApplication.applicant_id == applicant.id)):
        application = MerchantApplication(
            applicant_id=applicant.id, status=ApplicationStatus.SUBMITTED, shop_name="小周数码",
            business_type="individual", company_name="", credit_code="91110000600037341L",
            legal_representative="周小明", contact_name="周小明", contact_phone="+8613700000002",
            main_categories=["数码家电"], submitted_at=utcnow(),
        )
        db.session.add(application)
        db.session.flush()
        for kind, color in (("licence", (230, 240, 255)), ("id_front", (255, 240, 230)), ("id_back", (240, 255, 235))):
            key = save_image(_demo_document(color), f"merchant-documents/{application.id}").key
            setattr(application, f"{kind}_key", key)
        db.session.add_all([
            ApplicationEvent(application_id=application.id, actor_id=applicant.id, to_status="draft"),
            ApplicationEvent(application_id=application.id, actor_id=applicant.id, from_status="draft",
                             to_status="submitted"),
        ])
    db.session.flush()


def _demo_document(color: tuple[int, int, int]) -> bytes:
    """A plain placeholder image standing in for a scanned document."""
    image = Image.new("RGB", (640, 420), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 620, 400), outline=(100, 100, 100), width=4)
    draw.text((40, 40), "DEMO", fill=(80, 80, 80))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- the catalogue ------------------------------------------------------------------

# (top-level name, icon, [(second-level name, icon, [(leaf name, icon), ...]), ...])
DEMO_CATEGORIES = [
    ("食品生鲜", "basket2", [("新鲜水果", "basket", [("时令水果", "flower1"), ("进口水果", "globe2")]),
                           ("休闲零食", "cookie", [("坚果炒货", "egg"), ("饼干糕点", "cookie"), ("茶叶冲饮", "cup-hot")])]),
    ("数码家电", "phone", [("手机通讯", "phone", [("手机", "phone"), ("耳机", "headphones"), ("智能手表", "smartwatch")]),
                         ("电脑办公", "laptop", [("笔记本", "laptop"), ("键盘鼠标", "keyboard")])]),
    ("服饰鞋包", "handbag", [("女装", "person-standing-dress", [("连衣裙", "person-standing-dress"), ("T恤", "star")]),
                          ("鞋靴箱包", "bag", [("运动鞋", "lightning"), ("双肩包", "backpack")])]),
    ("美妆个护", "magic", [("护肤", "droplet", [("面霜", "droplet-half"), ("精华", "stars")]),
                         ("个人护理", "brush", [("洗发护发", "water"), ("口腔护理", "emoji-smile")])]),
    ("家居日用", "house", [("厨房用品", "cup-straw", [("锅具", "fire"), ("餐具", "cup")]),
                         ("收纳整理", "box-seam", [("收纳盒", "box"), ("灯具", "lamp")])]),
    ("母婴玩具", "balloon-heart", [("玩具", "controller", [("积木拼插", "bricks"), ("毛绒玩具", "heart")]),
                                ("婴童用品", "gift", [("纸尿裤", "moon-stars"), ("奶瓶餐具", "cup-straw")])]),
]

# (owner phone, name, description, categories, shipping fee, free threshold)
DEMO_SHOPS = {
    "13700000003": ("极客数码", "正品行货，全国联保，7 天无理由退换。", ["数码家电"], 0, None),
    "13700000004": ("优选生活馆", "服饰、美妆、家居和母婴好物，一站买齐。", ["服饰鞋包", "美妆个护", "家居日用"], 600, 6900),
}

# shop owner -> [(leaf, title, subtitle, tags, specs, base price yuan, stocks, promotion %, sales)]
_FRUIT, _DIGI, _LIFE = "13700000001", "13700000003", "13700000004"
DEMO_PRODUCTS = [
    (_FRUIT, "时令水果", "赣南脐橙 新鲜当季 现摘现发", "果肉饱满，酸甜多汁", ["橙子", "脐橙"], {"规格": ["5斤装", "10斤装"]}, 29.9, [120, 80], 20, 15320),
    (_FRUIT, "时令水果", "烟台红富士苹果 脆甜多汁", "山东烟台产地直发", ["苹果"], {"规格": ["8个装", "16个装"]}, 35.8, [60, 0], 0, 8211),
    (_FRUIT, "时令水果", "海南贵妃芒果 香甜软糯", "树上熟，现摘现发", ["芒果"], {"规格": ["3斤", "5斤"]}, 39.9, [40, 30], 15, 5402),
    (_FRUIT, "进口水果", "智利车厘子 JJ级 礼盒装", "空运直达，颗颗饱满", ["车厘子", "樱桃", "礼盒"], {"规格": ["1斤", "2斤", "5斤"]}, 89.0, [25, 18, 6], 10, 12650),
    (_FRUIT, "进口水果", "新西兰阳光金奇异果", "维C满满，软糯香甜", ["猕猴桃", "奇异果"], {"规格": ["12个装", "24个装"]}, 59.9, [50, 30], 0, 3120),
    (_FRUIT, "进口水果", "泰国金枕榴莲 整颗 现开", "果肉金黄，奶香浓郁", ["榴莲"], {"重量": ["3-4斤", "4-5斤"]}, 128.0, [8, 3], 0, 987),
    (_FRUIT, "坚果炒货", "每日坚果 混合果仁 30 包", "七种坚果果干科学配比", ["坚果", "零食"], {"规格": ["15包", "30包"]}, 49.9, [200, 150], 25, 23015),
    (_FRUIT, "坚果炒货", "临安山核桃仁 手剥 椒盐味", "新货上市，香脆可口", ["核桃", "零食"], {"口味": ["椒盐", "原味"]}, 36.0, [70, 0], 0, 1560),
    (_FRUIT, "饼干糕点", "手工蛋黄酥 6 枚礼盒", "红豆沙与咸蛋黄", ["糕点", "伴手礼"], {"口味": ["红豆", "紫薯", "抹茶"]}, 32.8, [40, 35, 0], 0, 4433),
    (_FRUIT, "茶叶冲饮", "西湖龙井 明前特级 绿茶", "清香回甘，杭州产区", ["茶叶", "绿茶"], {"规格": ["125g", "250g"]}, 168.0, [30, 15], 0, 812),
    (_FRUIT, "茶叶冲饮", "云南古树普洱 熟茶 357g", "陈香醇厚", ["普洱", "茶叶"], {}, 98.0, [45], 0, 630),
    (_FRUIT, "饼干糕点", "黄油曲奇 丹麦风味 铁盒装", "酥松香浓，送礼自吃两相宜", ["饼干", "曲奇"], {}, 45.0, [90], 12, 2890),
    (_DIGI, "手机", "星耀 X20 5G 手机 120Hz 高刷屏", "骁龙旗舰芯，5000mAh 大电池", ["手机", "5G"], {"颜色": ["曜石黑", "冰川蓝"], "版本": ["8+256G", "12+512G"]}, 2999.0, [30, 12, 25, 0], 8, 18234),
    (_DIGI, "手机", "青春版 Y8 手机 长续航", "6000mAh 电池，三天一充", ["手机"], {"颜色": ["星空紫", "薄荷绿"]}, 1299.0, [80, 60], 0, 9320),
    (_DIGI, "耳机", "降噪蓝牙耳机 Pro 主动降噪", "40dB 深度降噪，30 小时续航", ["耳机", "蓝牙", "降噪"], {"颜色": ["白色", "黑色"]}, 499.0, [150, 90], 20, 45210),
    (_DIGI, "耳机", "头戴式游戏耳机 7.1 环绕声", "电竞级麦克风", ["耳机", "游戏"], {}, 259.0, [40], 0, 2310),
    (_DIGI, "智能手表", "运动智能手表 血氧心率监测", "14 天续航，百种运动模式", ["手表", "运动"], {"表带": ["硅胶", "皮革"], "尺寸": ["42mm", "46mm"]}, 899.0, [20, 15, 10, 0], 15, 7812),
    (_DIGI, "笔记本", "轻薄笔记本 14 英寸 2.8K 屏", "1.2kg 轻盈机身，全能办公", ["笔记本", "电脑", "轻薄本"], {"配置": ["i5/16G/512G", "i7/32G/1T"]}, 4999.0, [18, 6], 0, 3056),
    (_DIGI, "笔记本", "电竞游戏本 16 英寸 RTX 显卡", "240Hz 电竞屏", ["笔记本", "游戏本"], {}, 8999.0, [5], 0, 845),
    (_DIGI, "键盘鼠标", "机械键盘 87 键 热插拔 茶轴", "PBT 键帽，三模连接", ["键盘", "机械键盘"], {"轴体": ["茶轴", "红轴", "青轴"]}, 329.0, [40, 55, 0], 10, 6620),
    (_DIGI, "键盘鼠标", "无线静音鼠标 人体工学", "办公静音，一年续航", ["鼠标", "办公"], {"颜色": ["深空灰", "雾霾蓝"]}, 79.0, [300, 200], 0, 31200),
    (_DIGI, "耳机", "开放式骨传导运动耳机", "不入耳更舒适，IP67 防水", ["耳机", "运动"], {}, 599.0, [35], 0, 1210),
    (_DIGI, "智能手表", "儿童电话手表 4G 视频通话", "精准定位，守护安全", ["手表", "儿童"], {"颜色": ["粉色", "蓝色"]}, 399.0, [60, 45], 0, 5630),
    (_LIFE, "连衣裙", "法式碎花连衣裙 夏季收腰", "雪纺面料，温柔显瘦", ["连衣裙", "女装", "碎花"], {"颜色": ["蓝色碎花", "白色碎花"], "尺码": ["S", "M", "L"]}, 189.0, [10, 22, 8, 12, 0, 5], 30, 8930),
    (_LIFE, "连衣裙", "针织长款连衣裙 秋冬打底", "柔软亲肤不起球", ["连衣裙", "针织"], {"尺码": ["S", "M", "L"]}, 229.0, [15, 20, 10], 0, 1320),
    (_LIFE, "T恤", "纯棉短袖 T恤 宽松百搭 三件装", "新疆长绒棉", ["T恤", "纯棉"], {"颜色": ["白", "黑", "灰"], "尺码": ["M", "L", "XL"]}, 99.0, [30, 40, 20, 25, 0, 18, 12, 20, 9], 0, 26540),
    (_LIFE, "运动鞋", "轻跑鞋 缓震透气 男女同款", "飞织鞋面，回弹中底", ["运动鞋", "跑鞋"], {"尺码": ["38", "39", "40", "41", "42"]}, 359.0, [8, 15, 20, 12, 0], 20, 11200),
    (_LIFE, "双肩包", "通勤双肩包 防泼水 15.6 寸电脑包", "大容量多隔层", ["双肩包", "电脑包"], {"颜色": ["黑色", "灰色"]}, 169.0, [45, 30], 0, 4390),
    (_LIFE, "面霜", "玻尿酸保湿面霜 50g", "深层补水，舒缓修护", ["面霜", "护肤", "保湿"], {}, 128.0, [120], 25, 19870),
    (_LIFE, "精华", "烟酰胺美白精华液 30ml", "提亮肤色，淡化痘印", ["精华", "护肤"], {"规格": ["30ml", "50ml"]}, 199.0, [80, 40], 0, 7650),
    (_LIFE, "洗发护发", "氨基酸无硅油洗发水 500ml", "温和清洁，蓬松柔顺", ["洗发水", "个护"], {"香型": ["樱花", "海盐", "柑橘"]}, 59.9, [100, 80, 60], 0, 15400),
    (_LIFE, "口腔护理", "声波电动牙刷 成人款", "五种模式，IPX7 防水", ["牙刷", "电动牙刷"], {"颜色": ["珍珠白", "星空黑"]}, 199.0, [50, 0], 18, 9120),
    (_LIFE, "锅具", "不粘炒锅 32cm 少油烟", "麦饭石涂层，燃气电磁炉通用", ["炒锅", "厨具"], {"尺寸": ["30cm", "32cm"]}, 239.0, [25, 30], 0, 3280),
    (_LIFE, "餐具", "日式陶瓷餐具套装 釉下彩", "可进微波炉、洗碗机", ["餐具", "陶瓷"], {"套装": ["2人食", "4人食"]}, 139.0, [40, 20], 10, 2450),
    (_LIFE, "收纳盒", "透明抽屉式收纳盒 3 个装", "衣柜整理神器", ["收纳", "收纳盒"], {}, 69.9, [150], 0, 18900),
    (_LIFE, "灯具", "LED 护眼台灯 国 AA 级", "无频闪，四档调光", ["台灯", "护眼"], {"颜色": ["白色", "木纹"]}, 159.0, [60, 25], 0, 5120),
    (_LIFE, "积木拼插", "城市系列积木 消防局 1200 颗粒", "兼容大颗粒，益智拼搭", ["积木", "玩具"], {}, 259.0, [30], 15, 4210),
    (_LIFE, "毛绒玩具", "趴趴熊毛绒公仔 抱枕", "柔软亲肤，可机洗", ["毛绒玩具", "公仔"], {"尺寸": ["60cm", "90cm"]}, 89.0, [70, 35], 0, 6780),
    (_LIFE, "纸尿裤", "婴儿纸尿裤 超薄透气", "3D 立体防漏", ["纸尿裤", "母婴"], {"尺码": ["S", "M", "L", "XL"]}, 119.0, [40, 60, 55, 0], 0, 22100),
    (_LIFE, "奶瓶餐具", "宽口径 PPSU 奶瓶 240ml", "耐摔耐高温", ["奶瓶", "母婴"], {}, 129.0, [70], 0, 3300),
]

_PALETTE = [(255, 77, 46), (255, 125, 0), (0, 180, 42), (22, 93, 255), (114, 46, 209), (245, 63, 63),
            (20, 201, 201), (247, 186, 30), (52, 145, 250), (235, 47, 150)]
_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def _product_image(text: str, index: int, variant: int = 0) -> bytes:
    """A coloured square with the product's first characters (a stand-in photo)."""
    base = _PALETTE[(index + variant * 3) % len(_PALETTE)]
    light = tuple(min(255, c + (255 - c) * 3 // 4) for c in base)
    image = Image.new("RGB", (640, 640), light)
    draw = ImageDraw.Draw(image)
    draw.ellipse((120, 120, 520, 520), fill=base)
    label = text[:2] if variant == 0 else text[2:4] or text[:2]
    try:
        font = ImageFont.truetype(_FONT, 150) if os.path.exists(_FONT) else ImageFont.load_default()
    except OSError:
        font = ImageFont.load_default()
    draw.text((320, 320), label, fill=(255, 255, 255), font=font, anchor="mm")
    buffer = io.BytesIO()
    # JPEG, as a photo would be: the upload path re-encodes a PNG with `optimize`, about
    # 35 ms an image against 4 ms for a JPEG, and the demo stores eighty of them.
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _seed_catalog() -> None:
    """The category tree, two more shops and about forty on-sale products (idempotent)."""
    with transaction():
        leaves = _seed_categories(Category)
        owners = {}
        for phone in (_FRUIT, _DIGI, _LIFE):
            owner = find_by_phone("+86" + phone)
            member = db.session.scalar(sa.select(MerchantMember).where(MerchantMember.user_id == owner.id))
            if member is None:
                name, description, main, fee, free = DEMO_SHOPS[phone]
                merchant = Merchant(
                    name=name, business_type="enterprise", company_name=f"上海{name}商贸有限公司",
                    credit_code="91350100M000100Y43", contact_name=owner.nickname, contact_phone=owner.phone,
                    main_categories=main, description=description, return_recipient=owner.nickname,
                    return_phone=owner.phone, return_address="上海市徐汇区虹桥路 1 号",
                    shipping_flat_fen=fee, free_shipping_threshold_fen=free)
                db.session.add(merchant)
                db.session.flush()
                db.session.add(MerchantMember(merchant_id=merchant.id, user_id=owner.id, role="owner"))
                db.session.flush()
                owners[phone] = (owner, merchant.id)
            else:
                owners[phone] = (owner, member.merchant_id)
    reviewer = find_by_phone("+8613800000001")
    now = utcnow()
    for index, (phone, leaf, title, subtitle, tags, specs, base, stocks, promo, sales) in enumerate(DEMO_PRODUCTS):
        owner, merchant_id = owners[phone]
        if db.session.scalar(sa.select(Product.id).where(Product.merchant_id == merchant_id, Product.title == title)):
            continue
        spec_list = [{"name": k, "values": v} for k, v in specs.items()]
        rows = []
        for n, combo in enumerate(product_input.matrix(spec_list)):
            base_fen = round(base * 100)
            price_fen = base_fen + n * max(100, round(base_fen / 1000) * 100)
            row = {"spec_values": combo, "price": fen_to_yuan(price_fen), "stock": stocks[n % len(stocks)]}
            if promo:
                cut = price_fen * (100 - promo) // 100
                cut = cut // 100 * 100 + (90 if cut >= 1000 else 0) if cut < 10000 else cut // 100 * 100
                row["promotion_price"] = fen_to_yuan(min(cut, price_fen - 10))
            rows.append(row)
        data = {"title": title, "subtitle": subtitle, "category_id": leaves[leaf], "tags": tags, "specs": spec_list,
                "description": f"<p>{subtitle}。</p><p>{title}，{'、'.join(tags)}。</p>", "skus": rows,
                "on_promotion": bool(promo),
                "promotion_starts_at": (now - timedelta(days=1)).isoformat() if promo else None,
                "promotion_ends_at": (now + timedelta(days=1 + index % 4, hours=index)).isoformat() if promo else None}
        with transaction():
            images = [_product_image(title, index), _product_image(title, index, 1)]
            product = product_service.save(owner, merchant_id, product_form.read(data), new_images=images)
            product_review.submit(owner, merchant_id, product.id)
            product_review.approve(reviewer, product.id)
            db.session.execute(sa.update(Product).where(Product.id == product.id).values(
                sales=sales, listed_at=now - timedelta(hours=len(DEMO_PRODUCTS) - index)))
            db.session.execute(sa.update(Sku).where(Sku.product_id == product.id).values(
                sales=sales // max(1, len(rows))))


def _seed_categories(Category) -> dict[str, int]:
    """Create the demo tree where a name is missing; return leaf name -> id."""
    leaves: dict[str, int] = {}

    def ensure(name, icon, parent_id, depth, sort):
        node = db.session.scalar(sa.select(Category).where(
            Category.name == name, Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id))
        if node is None:
            node = Category(name=name, icon=icon, parent_id=parent_id, depth=depth, sort=sort)
            db.session.add(node)
            db.session.flush()
        return node

    for i, (top_name, top_icon, mids) in enumerate(DEMO_CATEGORIES):
        top = ensure(top_name, top_icon, None, 1, i)
        for j, (mid_name, mid_icon, leaf_specs) in enumerate(mids):
            mid = ensure(mid_name, mid_icon, top.id, 2, j)
            for k, (leaf_name, leaf_icon) in enumerate(leaf_specs):
                leaves[leaf_name] = ensure(leaf_name, leaf_icon, mid.id, 3, k).id
    return leaves


def _seed_distribution() -> None:
    """Distribution switched on (three levels, anyone may share), 数码控老陈 (13900000002)
    as a distributor, and the demo shopper bound to him, so the demo orders below
    earn him commission (idempotent)."""
    admin = find_by_phone("+8613800000001")
    sharer = find_by_phone("+8613900000002")
    shopper = find_by_phone("+8613900000001")
    with transaction():
        if distribution_rules.current().id is None:
            distribution_rules.update(admin, {
                "enabled": True, "levels": 3, "level1_percent": "10", "level2_percent": "5", "level3_percent": "2",
                "qualification": "everyone", "spend_threshold": "0", "binding_mode": "permanent", "binding_days": "30",
                "settlement_delay_days": "7", "withdrawal_min": "10", "withdrawal_max": "5000",
                "withdrawal_fee_percent": "0", "withdrawal_methods": ["wechat", "alipay", "bank"],
            }, note="演示数据")
        distributor = distributors.open_centre(sharer)
        if referrals.current_binding(shopper.id) is None:
            referrals.bind(shopper, distributor.code, "link", is_new_user=True)


def _seed_orders() -> None:
    """The demo shopper's orders in every state, made through the real services:
    one unpaid across two shops, one awaiting shipment, one on its way, one
    received awaiting review, one reviewed with the shop's reply (idempotent)."""
    shopper = find_by_phone("+8613900000001")
    if db.session.scalar(sa.select(sa.func.count(Order.id)).where(Order.buyer_id == shopper.id)):
        return
    address = db.session.scalar(sa.select(Address).where(Address.user_id == shopper.id))
    owners = {}
    for phone in (_FRUIT, _DIGI, _LIFE):
        owner = find_by_phone("+86" + phone)
        owners[phone] = (owner, db.session.scalar(sa.select(MerchantMember.merchant_id)
                                                  .where(MerchantMember.user_id == owner.id)))

    def sku_of(phone: str, nth: int) -> int:
        return db.session.scalars(sa.select(Sku.id).join(Product).where(
            Product.merchant_id == owners[phone][1], Product.status == "on_sale", Sku.stock > 5)
            .order_by(Product.id, Sku.id)).all()[nth]

    def buy(items: list[tuple[int, int]], key: str, pay: bool) -> list[Order]:
        with transaction():
            payment = checkout.submit(shopper, items, address.id, {}, key)
            if pay:
                payments.apply_success(payment, "sandbox", f"SBDEMO{payment.id:06d}")
        return list(db.session.scalars(sa.select(Order).where(Order.payment_id == payment.id)))

    def ship(order: Order, phone: str, tracking_no: str) -> None:
        with transaction():
            order_services.ship(owners[phone][0].id, order.merchant_id, order.order_no, "shunfeng", tracking_no)
            shipping.add_manual_event(order.merchant_id, order.order_no, "快件已到达上海转运中心", "上海")

    done = buy([(sku_of(_FRUIT, 0), 1)], "demo-order-reviewed", pay=True)[0]
    ship(done, _FRUIT, "SF1400000000001")
    with transaction():
        order_services.confirm_receipt(shopper.id, done.order_no)
        review = reviews.create(shopper.id, done.items[0].id, 5, "很新鲜，个头大，家里人都说好吃，下次还来。")
        reviews.reply(done.merchant_id, review.id, "感谢支持，欢迎常来！")
    received = buy([(sku_of(_DIGI, 0), 1)], "demo-order-received", pay=True)[0]
    ship(received, _DIGI, "SF1400000000002")
    with transaction():
        order_services.confirm_receipt(shopper.id, received.order_no)
    on_the_way = buy([(sku_of(_LIFE, 0), 2)], "demo-order-shipped", pay=True)[0]
    ship(on_the_way, _LIFE, "SF1400000000003")
    buy([(sku_of(_FRUIT, 1), 2)], "demo-order-paid", pay=True)
    buy([(sku_of(_FRUIT, 2), 1), (sku_of(_DIGI, 1), 1)], "demo-order-unpaid", pay=False)


FLASH_RUNNING = "整点秒杀 · 演示"
FLASH_UPCOMING = "鲜果铺店庆秒杀 · 演示"


def _seed_flash_sales() -> None:
    """A running platform 秒杀 (two SKUs of two shops, six hours from now) and an
    upcoming one that 鲜果铺 requested and the platform approved (tomorrow), made through
    the real services, so their stock is carved out. Idempotent: a demo event still
    scheduled and not over is left alone; once over, the next seed makes a new one."""
    operator = policies.platform(find_by_phone("+8613800000002"))
    now = utcnow()

    def live(title: str) -> bool:
        return bool(db.session.scalar(sa.select(sa.func.count(FlashSale.id)).where(
            FlashSale.title == title, FlashSale.status == "scheduled", FlashSale.ends_at > now)))

    def items_of(merchant_id: int, count: int) -> list[dict]:
        skus = db.session.scalars(sa.select(Sku).join(Product).where(
            Product.merchant_id == merchant_id, Product.status == "on_sale", Sku.active, Sku.stock >= 20,
            Sku.price_fen >= 200).order_by(Product.id.desc(), Sku.id)).all()
        return [{"sku_id": s.id, "price_fen": s.price_fen // 2, "stock": min(30, s.stock // 2), "per_buyer_limit": 2}
                for s in skus[:count]]

    shops = {phone: db.session.scalar(sa.select(MerchantMember.merchant_id).join(User, User.id == MerchantMember.user_id)
                                      .where(User.phone == "+86" + phone)) for phone in (_FRUIT, _DIGI, _LIFE)}
    if not live(FLASH_RUNNING):
        items = items_of(shops[_DIGI], 1) + items_of(shops[_LIFE], 1)
        if items:
            with transaction():
                sale = flash_sale_services.create(operator, {
                    "title": FLASH_RUNNING, "starts_at": now - timedelta(minutes=10),
                    "ends_at": now + timedelta(hours=6), "items": items})
                flash_sale_services.publish(operator, sale.id)
    if not live(FLASH_UPCOMING):
        owner = find_by_phone("+86" + _FRUIT)
        shop = policies.shop(owner.id, shops[_FRUIT])
        items = items_of(shops[_FRUIT], 1)
        if items:
            with transaction():
                sale = flash_sale_services.create(shop, {
                    "title": FLASH_UPCOMING, "starts_at": now + timedelta(days=1),
                    "ends_at": now + timedelta(days=1, hours=2), "items": items})
                flash_sale_services.submit(shop, sale.id)
                flash_sale_services.approve(operator, sale.id)


def _seed_aftersales() -> None:
    """After-sales in several states for the demo shopper and the demo shop 鲜果铺, made
    through the real services (sandbox refunds run inline): one waiting for the shop,
    one approved and waiting for the parcel, one shipped back, one refunded before
    shipping, and one rejected and taken to the platform (idempotent). Every shop gets
    its profile's return address as its default return address."""
    for merchant in db.session.scalars(sa.select(Merchant)):
        has_address = db.session.scalar(sa.select(sa.func.count(MerchantAddress.id))
                                         .where(MerchantAddress.merchant_id == merchant.id))
        if not has_address and merchant.return_address:
            with transaction():
                db.session.add(MerchantAddress(merchant_id=merchant.id, label="默认", recipient=merchant.return_recipient,
                                               phone=merchant.return_phone, address=merchant.return_address,
                                               is_default=True))
    shopper = find_by_phone("+8613900000001")
    if db.session.scalar(sa.select(sa.func.count(AfterSale.id)).where(AfterSale.buyer_id == shopper.id)):
        return
    owner = find_by_phone("+86" + _FRUIT)
    merchant_id = db.session.scalar(sa.select(MerchantMember.merchant_id).where(MerchantMember.user_id == owner.id))
    shop = aftersale_policies.staff(db.session.scalar(sa.select(MerchantMember).where(
        MerchantMember.user_id == owner.id)))
    address = db.session.scalar(sa.select(Address).where(Address.user_id == shopper.id))
    return_address_id = db.session.scalar(sa.select(MerchantAddress.id).where(MerchantAddress.merchant_id == merchant_id))
    skus = db.session.scalars(sa.select(Sku.id).join(Product).where(
        Product.merchant_id == merchant_id, Product.status == "on_sale", Sku.stock > 5).order_by(Sku.id)).all()

    def received_order(sku_id: int, key: str) -> Order:
        with transaction():
            payment = checkout.submit(shopper, [(sku_id, 1)], address.id, {}, key)
            payments.apply_success(payment, "sandbox", f"SBDEMO{payment.id:06d}")
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
        with transaction():
            order_services.ship(owner.id, merchant_id, order.order_no, "shunfeng", f"SF15{payment.id:011d}")
            order_services.confirm_receipt(shopper.id, order.order_no)
        return db.session.get(Order, order.id)

    def ask(order: Order, kind: str, reason: str, description: str) -> str:
        with transaction():
            return aftersale_applications.apply(shopper.id, order.order_no, aftersale_applications.Application(
                lines=[(order.items[0].id, 1)], kind=kind, reason=reason, description=description)).aftersale_no

    ask(received_order(skus[0], "demo-aftersale-pending"), "return_refund", "quality", "有两个果子磕坏了，附图。")
    approved = ask(received_order(skus[1 % len(skus)], "demo-aftersale-approved"), "exchange", "size_color",
                   "想换成大果。")
    with transaction():
        aftersales.approve(shop, approved, return_address_id)
    returned = ask(received_order(skus[2 % len(skus)], "demo-aftersale-returned"), "return_refund", "not_as_described",
                   "实物比图片小很多。")
    with transaction():
        aftersales.approve(shop, returned, return_address_id)
    with transaction():
        aftersales.ship_back(shopper.id, returned, "yuantong", "YT8800000000001")
    disputed = ask(received_order(skus[3 % len(skus)], "demo-aftersale-disputed"), "refund_only", "quality",
                   "收到时已经坏了一半。")
    with transaction():
        aftersales.reject(shop, disputed, "签收时未反馈问题，无法核实")
    with transaction():
        disputes.escalate(shopper.id, disputed, "开箱视频可以证明到货即坏，请平台处理。")
    with transaction():
        payment = checkout.submit(shopper, [(skus[4 % len(skus)], 1)], address.id, {}, "demo-aftersale-refunded")
        payments.apply_success(payment, "sandbox", f"SBDEMO{payment.id:06d}")
    paid = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    ask(paid, "refund_only", "no_longer_wanted", "拍错了规格。")


def _fill_rollups() -> None:
    """Orders made before the sales rollups existed (an older demo database) are counted
    once; new ones are counted as they are paid."""
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(SalesDay))
    paid = db.session.scalar(sa.select(sa.func.count(Order.id)).where(Order.paid_at.is_not(None)))
    if paid and not counted:
        with transaction():
            rollups.rebuild()


# 经常一起买: regular customers (no demo logins) whose received orders pair products, and how
# often each basket was bought; one basket is a checkout across two shops.
_REGULARS = [("13900000011", "常买水果的王阿姨", ("310000", "310100", "310104")),
             ("13900000012", "爱喝茶的李老师", ("330000", "330100", "330106")),
             ("13900000013", "零食控小赵", ("350000", "350100", "350102"))]
_BOUGHT_TOGETHER = [
    ([(_FRUIT, "赣南脐橙 新鲜当季 现摘现发"), (_FRUIT, "烟台红富士苹果 脆甜多汁")], 4),
    ([(_FRUIT, "智利车厘子 JJ级 礼盒装"), (_FRUIT, "新西兰阳光金奇异果")], 3),
    ([(_FRUIT, "每日坚果 混合果仁 30 包"), (_FRUIT, "临安山核桃仁 手剥 椒盐味")], 3),
    ([(_FRUIT, "手工蛋黄酥 6 枚礼盒"), (_FRUIT, "西湖龙井 明前特级 绿茶")], 2),
    ([(_FRUIT, "西湖龙井 明前特级 绿茶"), (_FRUIT, "黄油曲奇 丹麦风味 铁盒装")], 2),
    ([(_FRUIT, "西湖龙井 明前特级 绿茶"), (_LIFE, "日式陶瓷餐具套装 釉下彩")], 2),
]


def _seed_bought_together() -> None:
    """Received orders of three regular customers whose baskets pair products (oranges
    with apples, cherries with kiwis, tea with biscuits, and tea with tableware from
    another shop), made through the real services, so 经常一起买 has rules to show at the
    default thresholds; then the rules are computed (idempotent: the orders once)."""
    regulars = []
    with transaction():
        for phone, nickname, (province, city, district) in _REGULARS:
            user = find_by_phone("+86" + phone)
            if user is None:
                user = User(phone="+86" + phone, nickname=nickname, password_hash=hash_password(DEMO_PASSWORD))
                db.session.add(user)
                db.session.flush()
                addresses.add(user.id, {"recipient": nickname[-3:], "phone": phone, "province_code": province,
                                        "city_code": city, "district_code": district, "detail": "人民路 8 号",
                                        "is_default": True})
            regulars.append(user)
    if not db.session.scalar(sa.select(sa.func.count(Order.id)).where(Order.buyer_id == regulars[0].id)):
        shop_of, owner_of = {}, {}
        for phone in (_FRUIT, _LIFE):
            owner = find_by_phone("+86" + phone)
            shop_of[phone] = db.session.scalar(sa.select(MerchantMember.merchant_id)
                                               .where(MerchantMember.user_id == owner.id))
            owner_of[shop_of[phone]] = owner.id
        n = 0
        for basket, times in _BOUGHT_TOGETHER:
            skus = [db.session.scalar(sa.select(Sku.id).join(Product).where(
                Product.merchant_id == shop_of[phone], Product.title == title, Sku.stock > 5).order_by(Sku.id).limit(1))
                for phone, title in basket]
            for _ in range(times):
                buyer = regulars[n % len(regulars)]
                n += 1
                address_id = db.session.scalar(sa.select(Address.id).where(Address.user_id == buyer.id))
                # spread over the last three months, at daytime and evening hours, like real shopping
                ago = timedelta(days=3 + (n * 5) % 85, hours=(n * 7) % 12)
                with travel(-ago), transaction():
                    payment = checkout.submit(buyer, [(sku, 1) for sku in skus], address_id, {}, f"demo-together-{n}")
                    payments.apply_success(payment, "sandbox", f"SBDEMO{payment.id:06d}")
                for order in db.session.scalars(sa.select(Order).where(Order.payment_id == payment.id)).all():
                    with travel(timedelta(days=2) - ago), transaction():
                        order_services.ship(owner_of[order.merchant_id], order.merchant_id, order.order_no, "shunfeng",
                                            f"SF16{order.id:011d}")
                        order_services.confirm_receipt(buyer.id, order.order_no)
    with transaction():
        recompute_rules()

# Demo customers of 鲜果铺 for the customer segments: (nickname, phone, kind, region codes).
SEGMENT_CUSTOMERS = [
    *[(name, f"136000000{n:02d}", "loyal", region) for n, (name, region) in enumerate(
        (("果粉阿May", "310104"), ("家庭采购王姐", "330106"), ("吃货小林", "440106"), ("公司行政刘", "310104")), 1)],
    *[(name, f"136000000{n:02d}", "sleeping", region) for n, (name, region) in enumerate(
        (("老主顾陈伯", "330106"), ("去年囤年货", "310104"), ("偶尔来买", "440106"), ("换季才来", "330106")), 5)],
    *[(name, f"136000000{n:02d}", "browsing", region) for n, (name, region) in enumerate(
        (("只看不买的猫", "310104"), ("比价达人", "440106"), ("学生党小周", "330106"), ("收藏夹吃灰", "310104")), 9)],
    *[(name, f"136000000{n:02d}", "new", region) for n, (name, region) in enumerate(
        (("新来的阿杰", "440106"), ("刚注册的Lily", "310104"), ("朋友推荐来", "330106"), ("第一次网购", "440106")), 13)],
]


def _seed_segments() -> None:
    """Sixteen customers of 鲜果铺 with five months of their own history (made once, through
    the real checkout and payment at past moments, with product views and cart adds), so the
    customer segments have groups to find: regulars buying dear fruit and tea often, buyers
    of months ago gone quiet, browsers who never buy, newcomers with one recent order. Then
    the segments of the platform and of every shop, computed now."""
    shop_id = db.session.scalar(sa.select(MerchantMember.merchant_id).join(User, User.id == MerchantMember.user_id)
                                .where(User.phone == "+86" + _FRUIT))
    owner = find_by_phone("+86" + _FRUIT)
    skus = db.session.execute(sa.select(Sku.id, Sku.product_id, Sku.price_fen).join(Product).where(
        Product.merchant_id == shop_id, Product.status == "on_sale", Sku.stock >= 20).order_by(Sku.price_fen)).all()
    dear, cheap = skus[-3:], skus[:3]
    now = utcnow()
    for index, (nickname, phone, kind, district) in enumerate(SEGMENT_CUSTOMERS):
        if find_by_phone("+86" + phone) is not None:
            continue
        with transaction():
            user = User(phone="+86" + phone, nickname=nickname,  # no password: they sign in with an SMS code
                        created_at=now - timedelta(days={"sleeping": 180, "new": 14}.get(kind, 40)))
            db.session.add(user)
            db.session.flush()
            address = addresses.add(user.id, {"recipient": nickname[:2] + "先生", "phone": phone,
                                              "province_code": district[:2] + "0000", "city_code": district[:4] + "00",
                                              "district_code": district, "detail": "文化路 18 号", "is_default": True})
        plan = {"loyal": [(2 + index + 7 * n, dear[n % 3], 1 + n % 2) for n in range(5)],
                "sleeping": [(95 + 9 * index + 12 * n, cheap[n % 3], 1) for n in range(2)],
                "browsing": [], "new": [(2 + index % 4 * 3, cheap[index % 3], 1)]}[kind]
        for days_ago, (sku_id, _product_id, _price), quantity in sorted(plan, key=lambda step: -step[0]):
            with travel(timedelta(days=-days_ago, hours=-(index % 9))), transaction():
                payment = checkout.submit(user, [(sku_id, quantity)], address.id, {}, f"demo-segment-{phone}-{days_ago}")
                payments.apply_success(payment, "sandbox", f"SBSEG{payment.id:06d}")
            order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
            if days_ago > 5:  # delivered long ago: shipped and received a few days after
                with travel(timedelta(days=3 - days_ago)), transaction():
                    order_services.ship(owner.id, shop_id, order.order_no, "shunfeng", f"SF16{order.id:011d}")
                    order_services.confirm_receipt(user.id, order.order_no)
        looks = {"loyal": (24, 40, 3, 30), "sleeping": (2, 15, 0, 120), "browsing": (45 + index * 3, 35, 2, 15),
                 "new": (6, 20, 1, 10)}[kind]
        views, dwell_s, carts, first_day = looks
        with transaction():
            for n in range(views):
                _sku, product_id, _price = skus[(index + n) % len(skus)]
                db.session.add(Event(type="page_view", user_id=user.id, product_id=product_id, merchant_id=shop_id,
                                     path=f"/products/{product_id}", dwell_ms=(dwell_s + n % 7 * 5) * 1000,
                                     created_at=now - timedelta(days=first_day - n * first_day // (2 * views),
                                                                hours=n % 11)))
            for n in range(carts):
                _sku, product_id, _price = skus[(index + n) % len(skus)]
                db.session.add(Event(type="add_to_cart", user_id=user.id, product_id=product_id, merchant_id=shop_id,
                                     created_at=now - timedelta(days=1 + n)))
    for merchant_id in (None, *db.session.scalars(sa.select(Merchant.id).order_by(Merchant.id))):
        with transaction():
            segment_runs.recompute(merchant_id)
