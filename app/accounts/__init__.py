"""Accounts: users, sign-in identities, verification codes, API tokens, roles and addresses."""
