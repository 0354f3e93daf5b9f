"""Agreement between annotators of the definition marks: Cohen's kappa with a bootstrap interval.

A definition mark is an annotator's judgement (:class:`metaanalysis.annotations.records.Paper`:
the consensus source, Figure 2 or mcatlas, and other ``marks``). As in a double-coded
systematic review, every pair of sources is compared on the papers both judged:

* each (paper, definition) cell is one rating in three categories, ``explicit``, ``implicit``
  and ``none`` (not used); the explicit-definition flag is a rating of its own (``yes``,
  ``no``, ``n/a``);
* raw agreement is the share of cells rated alike; Cohen's kappa (Cohen 1960, Educational and
  Psychological Measurement 20:37-46) corrects it for the agreement expected by chance from
  each source's own category frequencies, kappa = (p_o - p_e) / (1 - p_e); it is undefined
  (NaN) when both sources put every cell in one category (p_e = 1);
* its interval is a percentile bootstrap over papers (the unit that was sampled, so the
  definitions of one paper stay together), :data:`BOOTSTRAP_REPLICATES` resamples with a fixed
  seed; replicates where kappa is undefined are left out and counted.

Per definition, each pair compares one cell per common paper; "overall" pools all 8 definitions'
cells; "explicit definition" compares the flags. The disagreeing cells are listed, so a reader
can look at the papers.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Iterable, Sequence

import numpy as np

from simulators.vocabulary import DEFINITIONS

#: the categories of a definition mark
CATEGORIES: tuple[str, ...] = ("explicit", "implicit", "none")
#: bootstrap resamples of the kappa interval
BOOTSTRAP_REPLICATES = 2000
#: the scopes of an agreement row besides the 8 definitions
OVERALL, FLAG = "overall", "explicit definition"

AGREEMENT_COLUMNS: tuple[str, ...] = (
    "source_a", "source_b", "scope", "papers", "cells", "agreement", "kappa", "kappa_low", "kappa_high",
    "undefined_replicates", "disagreements",
)


def _kappa_of_tables(tables: np.ndarray) -> np.ndarray:
    """Cohen's kappa of contingency tables (..., K, K); NaN where chance agreement is 1."""
    n = tables.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_o = np.trace(tables, axis1=-2, axis2=-1) / n
        p_e = np.einsum("...i,...i->...", tables.sum(axis=-1), tables.sum(axis=-2)) / (n * n)
        kappa = (p_o - p_e) / (1.0 - p_e)
    return np.where((p_e >= 1.0) | (n == 0), np.nan, kappa)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two raters over the same items (NaN when chance agreement is 1)."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} ratings against {len(b)}")
    if not a:
        return math.nan
    return float(_kappa_of_tables(_table(a, b, sorted(set(a) | set(b)))))


def _table(a: Sequence[str], b: Sequence[str], cats: Sequence[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)))
    np.add.at(table, ([index[x] for x in a], [index[y] for y in b]), 1.0)
    return table


def _cells(papers: Sequence[Any], a: str, b: str, scope: str) -> list[tuple[str, str, str, str]]:
    """(paper key, item, rating of a, rating of b) for the papers both sources judged."""
    out = []
    for p in papers:
        ja, jb = p.judgement(a), p.judgement(b)
        if ja is None or jb is None:
            continue
        if scope == FLAG:
            out.append((p.key, FLAG, ja[0], jb[0]))
            continue
        for d in DEFINITIONS if scope == OVERALL else (scope,):
            out.append((p.key, d, ja[1].get(d, "none"), jb[1].get(d, "none")))
    return out


def _bootstrap(cells: list[tuple[str, str, str, str]], level: float, seed: int) -> tuple[float, float, int]:
    """Percentile interval of kappa over bootstrap resamples of the papers: a resample's
    contingency table is the sum of its papers' tables, weighted by how often each was drawn."""
    keys = sorted({c[0] for c in cells})
    if len(keys) < 2:
        return math.nan, math.nan, 0
    cats = sorted({c[2] for c in cells} | {c[3] for c in cells})
    per_paper = np.stack([_table([c[2] for c in cells if c[0] == k], [c[3] for c in cells if c[0] == k], cats)
                          for k in keys])
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(keys), np.full(len(keys), 1.0 / len(keys)), size=BOOTSTRAP_REPLICATES)
    v = _kappa_of_tables(np.tensordot(counts, per_paper, axes=1))
    ok = v[~np.isnan(v)]
    if ok.size == 0:
        return math.nan, math.nan, int(v.size)
    lo, hi = np.quantile(ok, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi), int(v.size - ok.size)


def sources_of(papers: Iterable[Any]) -> list[str]:
    """Every source that judged at least one paper (consensus sources first, then by name)."""
    seen: dict[str, None] = {}
    for p in papers:
        seen.setdefault(p.consensus_source)
    for p in papers:
        for m in p.marks:
            seen.setdefault(m.source)
    return list(seen)


def agreement_table(papers: Sequence[Any], level: float = 0.95, seed: int = 0) -> Any:
    """One row per pair of sources (that share at least one paper) and scope (overall, the
    explicit-definition flag, each definition): columns :data:`AGREEMENT_COLUMNS`;
    ``disagreements`` lists ``paper: item a vs b``."""
    import pandas as pd

    papers = list(papers)
    rows = []
    for a, b in itertools.combinations(sources_of(papers), 2):
        for scope in (OVERALL, FLAG, *DEFINITIONS):
            cells = _cells(papers, a, b, scope)
            if not cells:
                continue
            ra, rb = [c[2] for c in cells], [c[3] for c in cells]
            lo, hi, undefined = _bootstrap(cells, level, seed)
            rows.append({
                "source_a": a, "source_b": b, "scope": scope, "papers": len({c[0] for c in cells}),
                "cells": len(cells), "agreement": float(np.mean([x == y for x, y in zip(ra, rb)])),
                "kappa": cohen_kappa(ra, rb), "kappa_low": lo, "kappa_high": hi,
                "undefined_replicates": undefined,
                "disagreements": [f"{k}: {item} {x} vs {y}" for k, item, x, y in cells if x != y],
            })
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))


__all__ = ["AGREEMENT_COLUMNS", "BOOTSTRAP_REPLICATES", "CATEGORIES", "FLAG", "OVERALL", "agreement_table",
           "cohen_kappa", "sources_of"]
