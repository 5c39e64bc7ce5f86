"""Flash sales (秒杀): events with an event price and event stock carved out of SKUs'
stock, a Redis fast path for the rush, PostgreSQL as the truth (docs/flash-sales.md)."""
