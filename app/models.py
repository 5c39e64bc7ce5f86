"""Imports every domain's models so SQLAlchemy and Alembic see all tables."""
from app.accounts.models import Address, ApiToken, Identity, SignInEvent, User, VerificationCode  # noqa: F401
from app.aftersales.models import AfterSale, AfterSaleEvent, AfterSaleLine, Dispute, DisputeMessage  # noqa: F401
from app.analytics.models import (  # noqa: F401
    BuyerDay,
    Event,
    FirstPurchase,
    HourSales,
    KeywordDay,
    PeopleDay,
    ProductDay,
    ProductRule,
    ProvinceSales,
    RuleRun,
    SalesDay,
    SettledDay,
)
from app.analytics.segments.models import MarketingDelivery, Segment, SegmentMember, SegmentRun  # noqa: F401
from app.catalog.models import Category, Product, ProductEvent, ProductImage, Sku  # noqa: F401
from app.core.models import AuditLog, PlatformSetting, StateChange  # noqa: F401
from app.core.tracked_jobs import TrackedJob  # noqa: F401
from app.distribution.models import (  # noqa: F401
    Commission,
    DistributionRules,
    Distributor,
    DistributorEvent,
    DistributorLedgerEntry,
    ReferralBinding,
    Withdrawal,
)
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction, MerchantWithdrawal  # noqa: F401
from app.finance.reconciliation_models import ReconciliationDifference, ReconciliationRun  # noqa: F401
from app.flashsales.models import FlashSale, FlashSaleBuyer, FlashSaleItem, FlashSaleOrder  # noqa: F401
from app.inventory.models import LowStockAlert, StockMovement  # noqa: F401
from app.merchants.models import (  # noqa: F401
    ApplicationEvent,
    Merchant,
    MerchantAddress,
    MerchantApiKey,
    MerchantApplication,
    MerchantMember,
    MerchantPenalty,
)
from app.notifications.models import Message, OutboundMessage  # noqa: F401
from app.orders.models import CartItem, Order, OrderEvent, OrderItem, Review, Shipment, TrackingEvent  # noqa: F401
from app.payments.models import Payment, PaymentNotification, Refund  # noqa: F401
