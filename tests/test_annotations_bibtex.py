"""BibTeX export: the entry type follows the venue (conference, journal, arXiv preprint)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from metaanalysis.annotations.bibtex import bibliography, classify, entry


def paper(**kw):
    base = dict(key="k2024x", title="A Title with {Braces} & Co", authors=["A. One", "B. Two"],
                year=2024, month=5, venue=None, arxiv=None, doi=None, url=None)
    return SimpleNamespace(**{**base, **kw})


def fields(text: str) -> dict[str, str]:
    return dict(re.findall(r"^  (\w+) = \{?(.*?)\}?,?$", text, flags=re.MULTILINE))


@pytest.mark.parametrize(
    "venue,kind",
    [
        ("NeurIPS 2024", "inproceedings"), ("ICML 2023", "inproceedings"), ("ICLR 2025", "inproceedings"),
        ("ICCV 2023", "inproceedings"), ("AISTATS 2025 (PMLR 258)", "inproceedings"),
        ("Workshop on Data-centric ML, 2024", "inproceedings"),
        ("Findings of the Association for Computational Linguistics: NAACL 2024", "inproceedings"),
        ("ICLR 2025 Workshop on Data Problems for Foundation Models", "inproceedings"),
        ("Nature 631, 755-759", "article"), ("TMLR", "article"), ("Journal of Foo", "article"),
        ("Nature Machine Intelligence (2025)", "article"),
        ("arXiv preprint", "misc"), (None, "misc"), ("A blog", "misc"),
    ],
)
def test_entry_type_follows_the_venue(venue, kind):
    assert classify(venue) == kind
    assert entry(paper(venue=venue, arxiv="2401.00001")).startswith(f"@{kind}{{k2024x,\n")


def test_conference_paper_is_inproceedings_with_booktitle_and_venue_year():
    text = entry(paper(venue="ICML 2023", year=2022, month=9, arxiv="2209.03942"))
    f = fields(text)
    assert f["booktitle"] == "International Conference on Machine Learning (ICML 2023)"
    assert f["year"] == "2023" and "month" not in f  # cited as published; release month dropped
    assert f["eprint"] == "2209.03942" and f["archivePrefix"] == "arXiv"
    assert "howpublished" not in f and "journal" not in f
    pmlr = fields(entry(paper(venue="AISTATS 2025 (PMLR 258)")))
    assert pmlr["booktitle"].endswith("(AISTATS 2025)") and pmlr["series"] == "PMLR" and pmlr["volume"] == "258"


def test_journal_paper_is_article_with_volume_and_pages():
    text = entry(paper(venue="Nature 631, 755-759", doi="10.1038/s41586-024-07566-y", month=7))
    f = fields(text)
    assert text.startswith("@article{")
    assert (f["journal"], f["volume"], f["pages"]) == ("Nature", "631", "755--759")
    assert f["doi"] == "10.1038/s41586-024-07566-y" and f["year"] == "2024" and "month = jul" in text
    assert fields(entry(paper(venue="TMLR")))["journal"] == "Transactions on Machine Learning Research"


def test_workshop_and_findings_keep_the_venue_as_their_booktitle():
    # a workshop at ICLR is not the ICLR proceedings: no "International Conference ..." prefix
    workshop = fields(entry(paper(venue="ICLR 2025 Workshop on Data Problems for Foundation Models")))
    assert workshop["booktitle"] == "ICLR 2025 Workshop on Data Problems for Foundation Models"
    assert workshop["year"] == "2025"
    findings = fields(entry(paper(venue="Findings of the Association for Computational Linguistics: NAACL 2024")))
    assert findings["booktitle"] == "Findings of the Association for Computational Linguistics: NAACL 2024"
    # a workshop of 2023 whose volume appeared in 2024 is cited with the volume's year
    late = fields(entry(paper(venue="Epi UAI 2023 Workshop (Springer LNAI, 2024)", year=2023, month=6)))
    assert late["year"] == "2024" and "month" not in late


def test_journal_year_is_not_part_of_the_journal_name():
    text = entry(paper(venue="Nature Machine Intelligence (2025)", doi="10.1038/s42256-025-00984-1", month=5))
    f = fields(text)
    assert text.startswith("@article{")
    assert f["journal"] == "Nature Machine Intelligence" and f["year"] == "2025" and "month" not in f
    dated = fields(entry(paper(venue="Nature 631 (8022), 755-759 (2024)")))
    assert (dated["journal"], dated["volume"], dated["number"], dated["pages"], dated["year"]) == (
        "Nature", "631", "8022", "755--759", "2024")
    # a page range that ends in a year-like number is a page range, not a year
    pnas = fields(entry(paper(venue="PNAS 121, 1990-2005", year=2024)))
    assert pnas["pages"] == "1990--2005" and pnas["year"] == "2024" and pnas["journal"] == "Proceedings of the National Academy of Sciences"


def test_preprint_is_misc_with_eprint_and_escaped_title():
    text = entry(paper(venue="arXiv preprint", arxiv="2305.17493"))
    f = fields(text)
    assert f["howpublished"] == "arXiv preprint arXiv:2305.17493"
    assert f["eprint"] == "2305.17493" and f["url"] == "https://arxiv.org/abs/2305.17493"
    assert "{{A Title with \\{Braces\\} \\& Co}}" in text
    assert "author = {A. One and B. Two}" in text


def test_bundled_database_has_no_misc_for_published_papers():
    from metaanalysis.annotations.paths import REPO_ANNOTATIONS
    from metaanalysis.annotations.validation import validate_directory

    papers = validate_directory(REPO_ANNOTATIONS).papers
    bib = bibliography(papers)
    assert bib.count("\n@") + 1 == len(papers)
    for p in papers:
        kind = re.search(rf"^@(\w+)\{{{p.key},", bib, flags=re.MULTILINE).group(1)
        venue = (p.venue or "").lower()
        if "arxiv" in venue or not venue:
            assert kind == "misc", p.key
        else:
            assert kind in ("inproceedings", "article"), (p.key, p.venue)
