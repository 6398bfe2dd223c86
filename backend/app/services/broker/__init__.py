"""The broker seam: one `Trader` (xtquant's XtQuantTrader or the simulator) owned by QMTService.

`service` (QMTService), `bridge` (how the broker is built and its callbacks reach the loop),
`reconnect` (recovery after a lost session, settling unanswered submits), `xt_mapping` (the one
place xtquant ints and records become domain values).
"""
