"""Payments: one `Payment` per checkout, gateway notifications, refunds (DOMAIN.md)."""
