"""Housekeeping jobs that keep tables small."""
