"""A small module to try completions on: put the cursor inside `mean`'s body."""


def mean(values: list[float]) -> float:
    """Arithmetic mean of a non-empty list."""
    

def median(values: list[float]) -> float:
    """Middle value of a non-empty list (mean of the two middle ones when even)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
