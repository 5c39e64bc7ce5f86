"""数据报表: report files (CSV or XLSX) written by background jobs with a progress bar,
for a shop (its own rows only) or the platform. See docs/analytics.md, Reports.

Importing the package declares every report type and registers the job's handler
(`tracked_jobs.handler("report")`), in the web process and the worker alike.
"""
from app.analytics.reports import aftersales, commissions, jobs, orders, sales  # noqa: F401  (declare, register)
