"""Offline benchmarks for uno: a simulated-user environment and the runs that measure uno against it."""
