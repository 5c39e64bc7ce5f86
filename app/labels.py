"""Imports every domain's status labels (`<domain>/labels.py`), so the Jinja globals
`status_label` and `status_badge` know every kind of status. A domain with statuses
shown to people has a labels module; this list names the domains that may have one."""
from __future__ import annotations

import importlib
import importlib.util

DOMAINS = ("accounts", "aftersales", "catalog", "distribution", "finance", "flashsales", "inventory", "merchants",
           "notifications", "orders", "payments")

for _domain in DOMAINS:
    if importlib.util.find_spec(f"app.{_domain}.labels") is not None:
        importlib.import_module(f"app.{_domain}.labels")
