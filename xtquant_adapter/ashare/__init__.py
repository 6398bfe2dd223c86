"""Pure A-share rules (codes, lots, ticks, limits, fees, calendar); no I/O.

The backend imports these for pre-trade validation in both modes, so nothing here depends on
the simulator.
"""
