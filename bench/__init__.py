"""Benchmarks: they print numbers and assert nothing (see bench/README.md)."""
