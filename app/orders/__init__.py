"""Orders: cart, checkout, orders, shipments, tracking, reviews (DOMAIN.md)."""
