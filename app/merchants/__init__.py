"""Merchants: applications to open a shop, the shops, their staff, penalties and API keys."""
