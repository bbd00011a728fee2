"""VAT rates by country code."""

RATES = {"de": 0.19, "fr": 0.2, "lu": 0.17}


def rate_for(country):
    """The VAT rate of a country code, in any case ("DE" or "de"); 0.0 when unknown."""
    return RATES.get(country, 0.0)
