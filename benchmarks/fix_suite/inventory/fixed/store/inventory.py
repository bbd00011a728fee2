"""Stock of a small shop."""


class Inventory:
    def __init__(self):
        self._stock = {}

    def add(self, item, quantity):
        """Put `quantity` more of `item` in stock."""
        self._stock[item] = self._stock.get(item, 0) + quantity

    def remove(self, item, quantity):
        """Take `quantity` of `item` out; ValueError when there is not that much in stock."""
        if self._stock.get(item, 0) < quantity:
            raise ValueError(f"only {self._stock.get(item, 0)} {item} in stock")
        self._stock[item] = self._stock.get(item, 0) - quantity

    def count(self, item):
        return self._stock.get(item, 0)
