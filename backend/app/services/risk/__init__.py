"""Risk: pre-trade rules and the kill switch (`engine`), what a check reads besides the order
(`inputs`), keeping every process in step (`sync`), and request rate limits (`rate_limit`).
"""
