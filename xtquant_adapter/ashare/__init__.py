"""Pure A-share rules (codes, lots, ticks, limits, fees, calendar); no I/O.

`orders` is the one place orders are accepted or refused (`check_order`, `cage_verdict`) and
fills booked (`book_fill`); `products` says what a security is (kind, listing date, T+0).

The backend imports these for pre-trade validation in both modes, so nothing here depends on
the simulator.
"""
