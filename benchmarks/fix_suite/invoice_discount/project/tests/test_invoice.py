from billing.invoice import invoice_total


def test_lines_without_discount():
    assert invoice_total([(2, 3.5, 0.0), (1, 10.0, 0.0)]) == 17.0


def test_a_discounted_line():
    assert invoice_total([(4, 2.5, 0.1)]) == 9.0


def test_no_lines():
    assert invoice_total([]) == 0
