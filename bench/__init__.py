"""Benchmarks run by hand (``python -m bench.pool``); not part of the test suite."""
