"""Benchmarks (`make bench`). They print ratios measured in one run."""
