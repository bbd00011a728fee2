"""Prices with tax."""

from shop.rates import rate_for


def gross_price(net, country):
    """`net` plus the country's VAT, rounded to cents."""
    return round(net * (1 + rate_for(country)), 2)
