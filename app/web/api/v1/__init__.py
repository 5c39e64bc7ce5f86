"""Version 1 resources. Add a resource's blueprint to BLUEPRINTS to publish it."""
from app.web.api.v1.addresses import blp as addresses_blp
from app.web.api.v1.aftersales import blp as aftersales_blp
from app.web.api.v1.auth import blp as auth_blp
from app.web.api.v1.auth_wechat import blp as auth_wechat_blp
from app.web.api.v1.cart import blp as cart_blp
from app.web.api.v1.catalog import blp as catalog_blp
from app.web.api.v1.distribution import blp as distribution_blp
from app.web.api.v1.docs import bp as docs_bp
from app.web.api.v1.events import blp as events_blp
from app.web.api.v1.flash_sales import blp as flash_sales_blp
from app.web.api.v1.me import blp as me_blp
from app.web.api.v1.merchant_aftersales import blp as merchant_aftersales_blp
from app.web.api.v1.merchant_finance import blp as merchant_finance_blp
from app.web.api.v1.merchant_orders import blp as merchant_orders_blp
from app.web.api.v1.merchant_products import blp as merchant_products_blp
from app.web.api.v1.merchant_shop import blp as merchant_shop_blp
from app.web.api.v1.merchant_stats import blp as merchant_stats_blp
from app.web.api.v1.orders import blp as orders_blp
from app.web.api.v1.payments import blp as payments_blp

BLUEPRINTS = [auth_blp, auth_wechat_blp, me_blp, addresses_blp, merchant_shop_blp,
              merchant_products_blp, catalog_blp, cart_blp, orders_blp, aftersales_blp, payments_blp,
              merchant_orders_blp, merchant_aftersales_blp, merchant_stats_blp, merchant_finance_blp, distribution_blp,
              events_blp, flash_sales_blp]

__all__ = ["BLUEPRINTS", "docs_bp"]
