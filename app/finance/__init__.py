"""Finance: the double-entry ledger, merchant settlement, payouts and reconciliation."""
