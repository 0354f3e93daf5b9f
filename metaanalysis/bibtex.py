"""BibTeX entries for paper records, keyed by the record keys (for people who cite the set).

A paper with a DOI and a venue that is not an arXiv preprint becomes ``@article`` (``journal``
= venue); anything else becomes ``@misc`` (``howpublished`` = venue, or "arXiv preprint" for an
arXiv-only record). arXiv ids go in ``eprint`` with ``archivePrefix = {arXiv}``. Titles are
double-braced to keep their capitalisation; LaTeX special characters are escaped.
"""

from __future__ import annotations

from typing import Any, Iterable

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def escape(text: str) -> str:
    """Escape LaTeX's special characters."""
    return "".join(_SPECIAL.get(ch, ch) for ch in text)


def entry(paper: Any) -> str:
    """One BibTeX entry."""
    venue = paper.venue or ""
    is_article = bool(paper.doi) and bool(venue) and "arxiv" not in venue.lower()
    fields: list[tuple[str, str]] = [
        ("title", "{" + escape(paper.title) + "}"),
        ("author", escape(" and ".join(paper.authors))),
        ("year", str(paper.year)),
    ]
    month = MONTHS[paper.month - 1] if paper.month else None
    if is_article:
        fields.append(("journal", escape(venue)))
    elif venue or paper.arxiv:
        fields.append(("howpublished", escape(venue or "arXiv preprint")))
    if paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archivePrefix", "arXiv")]
    if paper.doi:
        fields.append(("doi", paper.doi))
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv else None)
    if url:
        fields.append(("url", url))
    body = [f"  {name} = {{{value}}}" for name, value in fields]
    if month:
        body.insert(3, f"  month = {month}")
    kind = "article" if is_article else "misc"
    return f"@{kind}{{{paper.key},\n" + ",\n".join(body) + "\n}\n"


def bibliography(papers: Iterable[Any]) -> str:
    """Entries for all papers, separated by blank lines."""
    return "\n".join(entry(p) for p in papers)
