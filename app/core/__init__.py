"""Shared building blocks every domain uses: database helpers, money, clock,
errors, jobs, uploads, settings, audit log, HTMX helpers and pagination."""
