"""Where feedback and the router's memory live: one small protocol, an SQLite file or a
PostgreSQL database behind it, chosen by the location's URL (`stores.location`)."""
