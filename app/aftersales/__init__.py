"""After-sales (售后): refund-only, return-and-refund and exchange requests, and disputes."""
