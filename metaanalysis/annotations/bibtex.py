"""BibTeX entries for paper records, keyed by the record keys (for people who cite the set).

The entry type follows the record's ``venue`` (see :func:`classify`):

* a conference (NeurIPS, ICML, ICLR, AISTATS, ICCV, ...; or a venue that says "Conference",
  "Proceedings", "Workshop", "Symposium", "Findings") becomes ``@inproceedings`` with
  ``booktitle`` = the conference's full name and the venue as written, e.g. "International
  Conference on Machine Learning (ICML 2024)"; a ``(PMLR 258)`` suffix becomes
  ``series = {PMLR}, volume = {258}``. A workshop held at a conference ("ICLR 2025 Workshop on
  ...") and ACL's "Findings of ..." keep the venue as written: they are not the main
  conference's proceedings;
* a journal (Nature, Science, PNAS, TMLR, JMLR, ...; or a venue that says "Journal",
  "Transactions", "Letters") becomes ``@article`` with ``journal``; ``Nature 631, 755-759``
  is split into ``journal = {Nature}, volume = {631}, pages = {755--759}``, and a trailing year
  (``Nature Machine Intelligence (2025)``, for an article whose volume is not recorded) is the
  entry's year, not part of the journal's name;
* an arXiv preprint (venue mentions arXiv, or no venue and an arXiv id) becomes ``@misc`` with
  ``howpublished = {arXiv preprint arXiv:ID}``;
* anything else: ``@article`` when the record has a DOI and a venue, else ``@misc`` with
  ``howpublished`` = the venue.

arXiv ids always go in ``eprint`` with ``archivePrefix = {arXiv}`` (so a published paper keeps
its preprint); a DOI goes in ``doi``. ``year`` is the venue's year when the venue names one
("ICML 2023": the proceedings a reader looks up; the last year it names, so a workshop of 2023
whose volume appeared in 2024 is cited as 2024), else the record's year (first public version); ``month`` (the release month) only when those agree; ``url`` is the record's, else the arXiv page. Titles are
double-braced to keep their capitalisation; LaTeX special characters are escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}

#: conference abbreviations (first word of a venue) -> full name
CONFERENCES: dict[str, str] = {
    "NeurIPS": "Advances in Neural Information Processing Systems",
    "NIPS": "Advances in Neural Information Processing Systems",
    "ICML": "International Conference on Machine Learning",
    "ICLR": "International Conference on Learning Representations",
    "AISTATS": "International Conference on Artificial Intelligence and Statistics",
    "COLT": "Conference on Learning Theory",
    "UAI": "Conference on Uncertainty in Artificial Intelligence",
    "ALT": "International Conference on Algorithmic Learning Theory",
    "AAAI": "AAAI Conference on Artificial Intelligence",
    "IJCAI": "International Joint Conference on Artificial Intelligence",
    "ICCV": "IEEE/CVF International Conference on Computer Vision",
    "CVPR": "IEEE/CVF Conference on Computer Vision and Pattern Recognition",
    "ECCV": "European Conference on Computer Vision",
    "WACV": "IEEE/CVF Winter Conference on Applications of Computer Vision",
    "ACL": "Annual Meeting of the Association for Computational Linguistics",
    "EMNLP": "Conference on Empirical Methods in Natural Language Processing",
    "NAACL": "Conference of the North American Chapter of the Association for Computational Linguistics",
    "EACL": "Conference of the European Chapter of the Association for Computational Linguistics",
    "COLING": "International Conference on Computational Linguistics",
    "COLM": "Conference on Language Modeling",
    "KDD": "ACM SIGKDD Conference on Knowledge Discovery and Data Mining",
    "WWW": "The Web Conference",
    "SIGIR": "International ACM SIGIR Conference on Research and Development in Information Retrieval",
    "ICASSP": "IEEE International Conference on Acoustics, Speech and Signal Processing",
    "Interspeech": "Interspeech",
    "MLSys": "Conference on Machine Learning and Systems",
    "FAccT": "ACM Conference on Fairness, Accountability, and Transparency",
    "CoLLAs": "Conference on Lifelong Learning Agents",
}
#: journal abbreviations or names (first word of a venue) -> full name
JOURNALS: dict[str, str] = {
    "Nature": "Nature",
    "Science": "Science",
    "PNAS": "Proceedings of the National Academy of Sciences",
    "TMLR": "Transactions on Machine Learning Research",
    "JMLR": "Journal of Machine Learning Research",
    "TPAMI": "IEEE Transactions on Pattern Analysis and Machine Intelligence",
    "Entropy": "Entropy",
    "Patterns": "Patterns",
}
_CONFERENCE_WORDS = re.compile(r"\b(conference|proceedings|workshop|symposium|findings)\b", re.IGNORECASE)
_NOT_MAIN_CONFERENCE = re.compile(r"\b(workshop|findings)\b", re.IGNORECASE)
_JOURNAL_WORDS = re.compile(r"\b(journal|transactions|letters)\b", re.IGNORECASE)
_YEAR = re.compile(r"(?<![-–])\b(?:19|20)\d\d\b(?!\s*[-–]\s*\d)")  # not a page of a range
_TRAILING_YEAR = re.compile(r"(?:\s*\((?:19|20)\d\d\)|,?\s+(?:19|20)\d\d)\s*$")
_SERIES = re.compile(r"\s*\((PMLR|LIPIcs|LNCS)\s+(\d+)\)\s*$")
_VOLUME_PAGES = re.compile(r"^(?P<name>.*?\D)\s+(?P<volume>\d+)\s*(?:\((?P<number>\d+)\))?,\s*(?P<pages>\d+(?:\s*[-–]+\s*\d+)?)$")


def escape(text: str) -> str:
    """Escape LaTeX's special characters."""
    return "".join(_SPECIAL.get(ch, ch) for ch in text)


def classify(venue: str | None, doi: str | None = None) -> str:
    """``inproceedings``, ``article`` or ``misc`` for a venue (see the module docstring)."""
    venue = (venue or "").strip()
    if not venue or "arxiv" in venue.lower():
        return "misc"
    first = venue.split()[0].rstrip(",:")
    if first in CONFERENCES or _CONFERENCE_WORDS.search(venue):
        return "inproceedings"
    if first in JOURNALS or _JOURNAL_WORDS.search(venue):
        return "article"
    return "article" if doi else "misc"


def _venue_fields(kind: str, venue: str, paper: Any) -> list[tuple[str, str]]:
    if kind == "inproceedings":
        fields: list[tuple[str, str]] = []
        series = _SERIES.search(venue)
        shown = venue[: series.start()] if series else venue
        first = shown.split()[0].rstrip(",:") if shown.split() else ""
        full = None if _NOT_MAIN_CONFERENCE.search(shown) else CONFERENCES.get(first)
        fields.append(("booktitle", escape(f"{full} ({shown})" if full else shown)))
        if series:
            fields += [("series", series.group(1)), ("volume", series.group(2))]
        return fields
    if kind == "article":
        venue = _TRAILING_YEAR.sub("", venue)
        parts = _VOLUME_PAGES.match(venue)
        name = parts.group("name").strip().rstrip(",") if parts else venue
        fields = [("journal", escape(JOURNALS.get(name, name)))]
        if parts:
            fields.append(("volume", parts.group("volume")))
            if parts.group("number"):
                fields.append(("number", parts.group("number")))
            pages = re.sub(r"\s*[-–]+\s*", "--", parts.group("pages"))
            fields.append(("pages", pages))
        return fields
    if venue and "arxiv" not in venue.lower():
        return [("howpublished", escape(venue))]
    if paper.arxiv:
        return [("howpublished", f"arXiv preprint arXiv:{paper.arxiv}")]
    return [("howpublished", escape(venue))] if venue else []


def entry(paper: Any) -> str:
    """One BibTeX entry."""
    venue = (paper.venue or "").strip()
    kind = classify(venue, paper.doi)
    fields: list[tuple[str, str]] = [
        ("title", "{" + escape(paper.title) + "}"),
        ("author", escape(" and ".join(paper.authors))),
    ]
    fields += _venue_fields(kind, venue, paper)
    # a published paper is cited with its venue's year (ICML 2023), which can differ from the
    # record's year (the first public version); the release month then does not apply
    venue_years = _YEAR.findall(venue) if kind != "misc" else []
    year = int(venue_years[-1]) if venue_years else paper.year
    fields.append(("year", str(year)))
    body = [f"  {name} = {{{value}}}" for name, value in fields]
    if paper.month and year == paper.year:
        body.append(f"  month = {MONTHS[paper.month - 1]}")
    extra: list[tuple[str, str]] = []
    if paper.arxiv:
        extra += [("eprint", paper.arxiv), ("archivePrefix", "arXiv")]
    if paper.doi:
        extra.append(("doi", paper.doi))
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv else None)
    if url:
        extra.append(("url", url))
    body += [f"  {name} = {{{value}}}" for name, value in extra]
    return f"@{kind}{{{paper.key},\n" + ",\n".join(body) + "\n}\n"


def bibliography(papers: Iterable[Any]) -> str:
    """Entries for all papers, separated by blank lines."""
    return "\n".join(entry(p) for p in papers)
