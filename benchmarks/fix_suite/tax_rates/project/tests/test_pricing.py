from shop.pricing import gross_price


def test_lowercase_country():
    assert gross_price(100.0, "de") == 119.0


def test_uppercase_country():
    assert gross_price(100.0, "FR") == 120.0


def test_unknown_country_has_no_tax():
    assert gross_price(10.0, "xx") == 10.0
