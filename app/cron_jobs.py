"""Every periodic job, in one list, so anyone can see what runs when.

Loaded by `flask cron` (RQ cron). Each job is idempotent and is also the
backstop sweep for effects scheduled elsewhere: a lost job is only late.
"""
from rq import cron

from app.maintenance.tasks import purge_expired_codes, purge_expired_tokens
from app.merchants.penalties import lift_expired_suspensions

cron.register(purge_expired_codes, queue_name="low", cron="17 3 * * *")  # daily 03:17 UTC
cron.register(purge_expired_tokens, queue_name="low", cron="23 3 * * *")
cron.register(lift_expired_suspensions, queue_name="default", interval=300)  # every 5 minutes
