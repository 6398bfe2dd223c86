"""Orders: the path that never loses or doubles an order (DESIGN.md "Placing an order").

`service` (TradingService, the use cases), `validation` (pre-broker checks), `journal` (the
`pending` row committed before the broker sees it), `updater` + `moves` (the single writer of
order state), `reconcile` (bring non-final rows to the broker's truth), `queries` (the read side),
`rows` (the one order/trade JSON shape).
"""
