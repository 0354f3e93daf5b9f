"""Re-executed evidence: planning reruns of paper setups, computing runs, writing them to the
store, telling current links from stale ones, reading them back, reruns and sweeps.

Modules in the order of the data: ``planning`` (setup -> resolved configuration and hash),
``compute`` (the unit of work), ``provenance``, ``tables``, ``write`` (one transaction per run),
``links`` (current, stale, orphaned), ``read`` (queries of current evidence), ``reruns``,
``sweep`` (grids through the executors).
"""

from simulators.lazy import facade

__getattr__, __dir__, __all__ = facade(__name__, {
    ".tables": ["RunRow", "RunLinkRow", "OverrideLinkRow", "AggregateRow", "VerdictRow", "FrameRow",
                "ensure_tables", "has_evidence", "open_evidence"],
    ".planning": ["FALLBACK_DEFAULTS", "PlannedRun", "apply_override", "canonical_config", "config_hash",
                  "missing_runs", "override_of", "plan", "realistic_defaults", "resolve_config", "setup_config", "setup_runs",
                  "split_setup_name", "sweep_setup_name"],
    ".work": ["AGGREGATE_COLUMNS", "CodeVersionMismatch", "RunResult", "compute", "horizon_of", "horizons_of"],
    ".write": ["PAUSE_ENV", "link", "run_exists", "store_result", "stored_hashes"],
    ".links": ["LINK_STATES", "STATE_NOTES", "SweepLinks", "current_links", "index_defaults",
               "link_states", "override_states", "sweep_links"],
    ".read": ["RUNS_COLUMNS", "SCALING_DEFINITION", "SCALING_METRICS", "VERDICT_COLUMNS", "aggregates",
              "load_frame", "load_profile", "run_provenance", "runs_frame", "scaling_metric",
              "sweep_verdict", "trajectories", "verdicts"],
    ".reruns": ["RerunReport", "RunOutcome", "rerun", "rerun_missing"],
})
