"""Every periodic job, in one list, so anyone can see what runs when.

Loaded by `flask cron` (RQ cron). Each job is idempotent and is also the
backstop sweep for effects scheduled elsewhere: a lost job is only late.
"""
from rq import cron

from app.aftersales.deadlines import sweep_deadlines, sweep_return_tracking
from app.analytics.partitions import maintain_event_partitions
from app.analytics.reports.services import expire_old_reports
from app.analytics.segments.runs import refresh_all as refresh_segments
from app.analytics.settled_days import settle_due
from app.analytics.tasks import recompute_rules
from app.analytics.tracking import flush_buffer, purge_old_events
from app.core.tracked_jobs import sweep_tracked_jobs
from app.distribution.tasks import sweep_settlement
from app.finance.tasks import reconcile_yesterday
from app.flashsales.tasks import sweep as sweep_flash_sales
from app.inventory.alerts import sweep_unnotified_alerts
from app.maintenance.tasks import purge_expired_codes, purge_expired_tokens
from app.merchants.document_retention import sweep_expired_documents
from app.merchants.penalties import lift_expired_suspensions
from app.notifications.tasks import resend_stuck_outbound
from app.orders.tasks import refresh_tracking, sweep_auto_confirm, sweep_complete, sweep_unpaid
from app.payments.tasks import sweep_gateway_closes, sweep_pending_payments, sweep_refunds

cron.register(purge_expired_codes, queue_name="low", cron="17 3 * * *")  # daily 03:17 UTC
cron.register(purge_expired_tokens, queue_name="low", cron="23 3 * * *")
cron.register(lift_expired_suspensions, queue_name="default", interval=300)  # every 5 minutes
cron.register(sweep_unpaid, queue_name="high", interval=60)  # unpaid orders past their deadline
cron.register(sweep_pending_payments, queue_name="high", interval=120)  # ask gateways about silent payments
cron.register(sweep_refunds, queue_name="default", interval=300)
cron.register(sweep_gateway_closes, queue_name="low", interval=300)  # closed payments still open at their gateway
# Jobs lost while Redis was down (or lost with its memory):
cron.register(resend_stuck_outbound, queue_name="high", interval=60)  # SMS / mail still queued after a minute
cron.register(sweep_unnotified_alerts, queue_name="default", interval=300)  # low-stock alerts not yet sent
cron.register(sweep_auto_confirm, queue_name="low", interval=3600)
cron.register(sweep_complete, queue_name="low", interval=3600)
cron.register(refresh_tracking, queue_name="low", interval=1800)
cron.register(sweep_settlement, queue_name="low", interval=3600)  # commissions due after receipt + delay
cron.register(sweep_deadlines, queue_name="low", interval=600)  # after-sales parties silent past their deadline
cron.register(sweep_return_tracking, queue_name="low", interval=1800)  # return parcels delivered: the shop's clock starts
cron.register(flush_buffer, queue_name="low", interval=60)  # behaviour events buffered in Redis
cron.register(purge_old_events, queue_name="low", cron="41 3 * * *")  # events past analytics_retention_days
cron.register(maintain_event_partitions, queue_name="low", cron="11 2 * * *")  # next months' event partitions (PostgreSQL)
cron.register(settle_due, queue_name="low", interval=3600)  # days past settling: the platform's rows, people sets, keywords
cron.register(sweep_tracked_jobs, queue_name="low", interval=300)  # reports and segment messages: lost or stalled
cron.register(recompute_rules, queue_name="low", cron="7 19 * * *", job_timeout=1800)  # 经常一起买: 03:07 Shanghai
cron.register(expire_old_reports, queue_name="low", cron="53 3 * * *")  # report files past report_retention_days
cron.register(refresh_segments, queue_name="low", cron="37 19 * * *", job_timeout=3600)  # customer segments, 03:37 Shanghai
cron.register(reconcile_yesterday, queue_name="low", cron="30 19 * * *", job_timeout=1800)  # 对账 of yesterday: 03:30 Shanghai
cron.register(sweep_flash_sales, queue_name="high", interval=60)  # 秒杀: end due events, Redis rebuilt from PostgreSQL
cron.register(sweep_expired_documents, queue_name="low", cron="47 3 * * *")  # shops' ID documents past their keeping time
