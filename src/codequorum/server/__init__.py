"""The language server: a thin protocol layer (`features/`) over plain, testable modules."""
