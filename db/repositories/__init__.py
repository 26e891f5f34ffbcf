"""Queries, one module per aggregate. Only this package writes SQL."""
