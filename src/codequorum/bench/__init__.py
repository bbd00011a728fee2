"""Benchmarks: collect candidates once (cached), execute them in the sandbox, replay strategies."""
