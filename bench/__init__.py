"""Benchmark harness: vanilla Synapse against hearth's configured Synapse, side by side.

Run it with ``make bench`` (``python -m bench``); see ``docs/benchmarks.md`` for results.
"""
