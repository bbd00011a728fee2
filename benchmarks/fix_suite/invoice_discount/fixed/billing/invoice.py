"""Invoice totals."""


def _line_total(quantity, unit_price, discount):
    """One invoice line: quantity times price, less the discount (a fraction, 0.1 = 10%)."""
    return quantity * unit_price * (1 - discount)


def invoice_total(lines):
    """The total of (quantity, unit price, discount) lines, rounded to cents."""
    return round(sum(_line_total(q, p, d) for q, p, d in lines), 2)
