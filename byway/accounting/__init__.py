"""Prices, cost, usage ledger, budgets and rate limits."""
