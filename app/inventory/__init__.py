"""Inventory: stock changes by conditional UPDATE, stock movements, low-stock alerts."""
