import pytest

from store.inventory import Inventory


def test_adding_twice_adds_up():
    stock = Inventory()
    stock.add("apple", 3)
    stock.add("apple", 2)
    assert stock.count("apple") == 5


def test_removing_some():
    stock = Inventory()
    stock.add("pear", 4)
    stock.remove("pear", 3)
    assert stock.count("pear") == 1


def test_removing_more_than_there_is_is_refused():
    stock = Inventory()
    stock.add("plum", 1)
    with pytest.raises(ValueError):
        stock.remove("plum", 2)
    assert stock.count("plum") == 1
