"""The surfaces: one blueprint per audience, plus the JSON API and payment webhooks."""
