"""Imports every domain's status labels (`<domain>/labels.py`), so the Jinja globals
`status_label` and `status_badge` know every kind of status. One line per domain."""
