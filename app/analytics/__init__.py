"""Analytics: events recorded by the shop (searches, views, ...) and what is computed from them."""
