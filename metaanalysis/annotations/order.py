"""The order of papers in the matrix and every listing (cheap to import: no pydantic)."""

from __future__ import annotations

from typing import Any


def matrix_order(paper: Any) -> tuple:
    """Sort key of a paper (anything with ``figure_order, year, month, key``): the position
    paper's Figure 2 rows first, by ``figure_order``; then the others by year, month (records
    without a month after those with one) and key."""
    if paper.figure_order is not None:
        return (0, paper.figure_order, 0, 0, paper.key)
    return (1, 0, paper.year, paper.month if paper.month is not None else 13, paper.key)


__all__ = ["matrix_order"]
