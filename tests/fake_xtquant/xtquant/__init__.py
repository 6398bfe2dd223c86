"""A fake `xtquant` for tests: the real SDK's threading and callback behaviour, no Windows.

Put on sys.path only by the `fake_xtquant` fixture (tests/live/conftest.py); never shipped.
The state of the fake MiniQMT terminal and its knobs: `xtquant._fake.terminal()`.
"""

__version__ = "fake_250807"
