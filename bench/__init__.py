"""Benchmark suite for the order path: `uv run python -m bench [--quick]`.

See docs/performance.md.
"""
