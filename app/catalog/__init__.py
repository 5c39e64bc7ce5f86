"""Catalog: the category tree, products with their specs and SKUs, images, and product review."""
