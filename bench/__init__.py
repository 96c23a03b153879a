"""Benchmarks: a synthetic corpus generator, the harness and its baselines (see README.md)."""
