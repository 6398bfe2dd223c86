"""Fake `xtquant.xtconstant`: the adapter's copy, whose values equal the real SDK's."""

from xtquant_adapter import xtconstant as _source

globals().update({k: v for k, v in vars(_source).items() if not k.startswith("_") and k != "Final"})
