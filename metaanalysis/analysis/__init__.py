"""Analyses of the annotations and the evidence: the definition-vs-paper matrix and its evidence
overlay, realism weights, the tidy evidence frames, claims against evidence, the synthesis per
definition, effects and their pooling, and the position paper's Figure 4 test.
"""

from simulators.lazy import facade

__getattr__, __dir__, __all__ = facade(__name__, {
    ".matrix": ["Matrix", "apply_evidence", "build_matrix", "combine_verdicts", "evidence_cells",
                "evidence_columns"],
    ".weighting": ["claim_weights", "realism_of", "weights"],
    ".frames": ["Evidence", "RunEvidence", "evidence_from_runs", "load_evidence", "unique_runs"],
    ".claims": ["contradicted_claims"],
    ".synthesis": ["conclusion_checks", "synthesis_table", "verdicts_by_policy"],
    ".pooling": ["log_risk_ratio", "pool", "pooled_by_policy"],
    ".absorption": ["figure4_test", "stored_absorption"],
})
