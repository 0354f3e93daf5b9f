"""What readers see: text views, the charts, and the static HTML atlas (``atlas``)."""

from simulators.lazy import facade

__getattr__, __dir__, __all__ = facade(__name__, {
    ".text": ["evidence_text", "paper_text"],
    ".charts": ["all_charts", "save_chart"],
    ".atlas": ["build_site"],
})
