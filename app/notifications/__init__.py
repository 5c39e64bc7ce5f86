"""Notifications: in-site messages, and SMS and email sent by background jobs."""
