"""Distribution (分销): rules, distributors, referral bindings, three-level
commissions and withdrawals (DOMAIN.md, Distribution)."""
