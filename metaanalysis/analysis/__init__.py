"""Analyses of the annotations and the evidence: the definition-vs-paper matrix and its evidence
overlay, realism weights, the tidy evidence frames, claims against evidence, the synthesis per
definition, effects and their pooling, and the tests of claims that state a law (the position
paper's Figure 4).
"""

from simulators.lazy import facade

__getattr__, __dir__, __all__ = facade(__name__, {
    ".matrix": ["Matrix", "apply_evidence", "build_matrix", "evidence_cells", "evidence_columns"],
    ".weighting": ["claim_weights", "realism_of", "weights"],
    ".frames": ["Evidence", "RunEvidence", "evidence_from_runs", "load_evidence", "load_verdicts", "unique_runs"],
    ".claims": ["ClaimAssessment", "assess_claims", "combine_verdicts"],
    ".laws": ["law_results"],
    ".synthesis": ["conclusion_checks", "synthesis_table", "verdicts_by_policy"],
    ".pooling": ["log_risk_ratio", "pool", "pooled_by"],
    ".absorption": ["figure4_test", "stored_absorption"],
    ".agreement": ["agreement_table", "cohen_kappa"],
    ".explore": ["boundaries", "what_it_takes"],
})
