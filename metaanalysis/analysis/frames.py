"""The re-executed evidence as tidy frames: what the synthesis, the charts and the atlas read.

An :class:`Evidence` holds pandas frames (any may be empty), one row per paper, setup and
variant and, for verdicts, per definition. :func:`load_evidence` reads the store's current links
into it; :func:`evidence_from_runs` builds it from run frames and profiles in memory (what tests
and notebooks use).

One run, counted once
    Several (paper, setup, variant) links can name the same configuration (the same simulator,
    parameters, policy, seeds and iterations: one stored run, one ``config_hash``). Such a run is
    one piece of evidence: every count keeps it once (:func:`unique_runs`) and lists every link
    that shares it (``shared_by``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from simulators.vocabulary import VARIANTS

from .pooling import log_risk_ratio

#: columns of the evidence frames (extra columns are allowed and passed through)
VERDICT_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "definition", "verdict", "statistic", "ci_low", "ci_high",
    "iteration", "stability", "seeds_needed", "iterations_needed", "reason", "config_hash",
)


TRAJECTORY_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "metric", "iteration", "mean", "ci_low", "ci_high", "seeds",
    "config_hash",
)


EFFECT_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "family", "effect", "se", "ci_low", "ci_high", "seeds", "excluded",
    "note", "config_hash",
)


RUN_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "run_id", "simulator", "seeds", "iterations", "provenance",
    "config_hash",
)


def _frame(rows: Any, columns: Sequence[str]) -> Any:
    import pandas as pd

    if rows is None:
        return pd.DataFrame(columns=list(columns))
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for c in columns:
        if c not in frame.columns:
            frame[c] = None
    return frame


def run_key(frame: Any) -> Any:
    """The identity of the run behind each row: its ``config_hash`` where known, else its
    ``run_id``, else ``paper/setup/variant`` (rows from in-memory evidence without a hash)."""
    import pandas as pd

    fallback = frame["paper"].astype(str) + "/" + frame["setup"].astype(str) + "/" + frame["variant"].astype(str)
    key = pd.Series(fallback.to_numpy(), index=frame.index, dtype=object)
    for col in ("run_id", "config_hash"):  # config_hash wins
        if col in frame.columns:
            have = frame[col].notna() & (frame[col].astype(str) != "")
            key = key.where(~have, frame[col].astype(str))
    return key


def link_label(paper: Any, setup: Any, variant: Any) -> str:
    """How a (paper, setup, variant) link is written in labels: ``paper / setup (variant)``."""
    return f"{paper} / {setup} ({variant})"


def unique_runs(frame: Any, per: Sequence[str] = (), within_variant: bool = False) -> Any:
    """One row per run (and per ``per`` columns, e.g. ``definition``), dropping the copies that
    arise when several (paper, setup, variant) links name the same configuration: a run computed
    once is evidence once, whatever the number of setups that describe it.

    ``within_variant``: keep a run once per variant (a configuration that is one setup's
    published run and another's realistic run is counted in both columns of a per-variant table,
    once each). Adds ``run_key``, ``links`` (how many links share the run) and ``shared_by`` (all
    of them, ``paper / setup (variant)``, joined by "; "), keeping the first row's other values.
    """
    import pandas as pd

    f = _frame(frame, ())
    if len(f) == 0:
        out = f.copy()
        for c in ("run_key", "links", "shared_by"):
            out[c] = pd.Series(dtype=object)
        return out
    f = f.copy()
    f["run_key"] = run_key(f)
    f["_link"] = [link_label(p, s, v) for p, s, v in zip(f["paper"], f["setup"], f["variant"])]
    group = ["run_key", *per] + (["variant"] if within_variant else [])
    shared = f.groupby(group, sort=False, dropna=False)["_link"].agg(lambda x: list(dict.fromkeys(x)))
    first = f.drop_duplicates(group).set_index(group)
    first["shared_by"] = shared.map("; ".join)
    first["links"] = shared.map(len)
    return first.reset_index().drop(columns=["_link"])


@dataclass
class Evidence:
    """The re-executed evidence, as tidy frames (any of them may be empty).

    ``verdicts``      :data:`VERDICT_COLUMNS`: one row per (paper, setup, variant, definition)
    ``trajectories``  :data:`TRAJECTORY_COLUMNS`: per-iteration mean and CI across seeds
    ``effects``       :data:`EFFECT_COLUMNS`: the forest plot's per-run effect at the common horizon
                      (:func:`log_risk_ratio`), with the run's model ``family``
    ``runs``          :data:`RUN_COLUMNS`: one row per stored run; ``provenance`` a dict
    ``laws``          the tests of claims that state a law
                      (:func:`metaanalysis.analysis.laws.law_results`)
    """

    verdicts: Any = None
    trajectories: Any = None
    effects: Any = None
    runs: Any = None
    laws: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.verdicts = _frame(self.verdicts, VERDICT_COLUMNS)
        self.trajectories = _frame(self.trajectories, TRAJECTORY_COLUMNS)
        self.effects = _frame(self.effects, EFFECT_COLUMNS)
        self.runs = _frame(self.runs, RUN_COLUMNS)

    @classmethod
    def empty(cls) -> "Evidence":
        return cls()

    @property
    def is_empty(self) -> bool:
        return all(len(f) == 0 for f in (self.verdicts, self.trajectories, self.effects, self.runs))

    def for_paper(self, key: str) -> "Evidence":
        """The evidence of one paper."""
        return Evidence(**{
            name: f[f["paper"] == key] for name, f in
            (("verdicts", self.verdicts), ("trajectories", self.trajectories),
             ("effects", self.effects), ("runs", self.runs))
        }, laws={k: v for k, v in self.laws.items() if k[0] == key})

    def claims(self, papers: Sequence[Any]) -> list[Any]:
        """The papers' claims judged against this evidence
        (:func:`metaanalysis.analysis.claims.assess_claims`: the one judgement every view shows)."""
        from .claims import assess_claims

        return assess_claims(papers, self.verdicts, self.laws)


@dataclass
class RunEvidence:
    """One re-executed run: a tidy per-seed frame (``iteration, seed, metric, value``), its
    collapse profile (a :class:`simulators.verdicts.Profile`, or None) and provenance."""

    paper: str
    setup: str
    variant: str
    policy: str
    frame: Any
    profile: Any = None
    run_id: str = ""
    simulator: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)


def trajectory_summary(frame: Any) -> Any:
    """Per iteration and metric: mean, 95% CI across seeds and the number of seeds
    (:func:`simulators.summary.summarize`, so the report shows what ``mcatlas run`` prints and the
    store keeps)."""
    from simulators.summary import summarize

    return summarize(frame).rename(columns={"n": "seeds"})


def evidence_from_runs(runs: Iterable[RunEvidence]) -> Evidence:
    """An :class:`Evidence` from in-memory runs (trajectories, effects, verdicts, provenance)."""
    import pandas as pd

    verdicts, trajectories, effects, rows = [], [], [], []
    for r in runs:
        ident = {"paper": r.paper, "setup": r.setup, "variant": r.variant, "policy": r.policy,
                 "config_hash": r.run_id or f"{r.paper}/{r.setup}/{r.variant}"}
        summary = trajectory_summary(r.frame)
        trajectories.append(summary.assign(**ident))
        effects.append({**ident, "family": r.simulator, **log_risk_ratio(r.frame).as_dict()})
        if r.profile is not None:
            verdicts.append(r.profile.to_frame().assign(**ident))
        iterations = int(r.frame["iteration"].max()) if len(r.frame) else 0
        rows.append({**ident, "run_id": r.run_id, "simulator": r.simulator,
                     "seeds": int(r.frame["seed"].nunique()) if len(r.frame) else 0,
                     "iterations": iterations, "provenance": dict(r.provenance)})
    return Evidence(
        verdicts=pd.concat(verdicts, ignore_index=True) if verdicts else None,
        trajectories=pd.concat(trajectories, ignore_index=True) if trajectories else None,
        effects=effects or None,
        runs=rows or None,
    )


def _current_runs(eng: Any, papers: Sequence[Any]) -> Any:
    """The stored runs of the papers' current setups (:func:`metaanalysis.evidence.read.runs_frame`)."""
    from metaanalysis.evidence import planning as rr
    from metaanalysis.evidence import read as ev

    # a sweep setup (sweep_n) stands for one run per n, linked as NAME@n=N (metaanalysis.evidence.reruns)
    current = {(p.key, name) for p in papers for s in p.setups for name, _ in rr.setup_runs(s)}
    runs = ev.runs_frame(eng, paper=papers[0].key if len(papers) == 1 else None)
    return runs[[(p, s) in current for p, s in zip(runs["paper"], runs["setup"])]].reset_index(drop=True)


def _verdicts_of(eng: Any, runs: Any, papers: Sequence[Any]) -> Any:
    import pandas as pd

    from metaanalysis.evidence import planning as rr
    from metaanalysis.evidence import read as ev

    all_verdicts = ev.verdicts(eng, papers[0].key if len(papers) == 1 else None)
    ident = runs[["paper", "setup", "variant", "policy", "config_hash"]]
    verdicts = all_verdicts.merge(ident, on=["paper", "setup", "variant", "config_hash"], how="inner")
    # a complete sweep's scaling-law-change row is under the setup's own name and is no run of
    # its own: it takes the policy of its runs
    base = [rr.split_setup_name(s) for s in runs["setup"]]
    swept = runs.assign(setup=[b for b, n in base])[[n is not None for b, n in base]]
    swept = swept[["paper", "setup", "variant", "policy"]].drop_duplicates(["paper", "setup", "variant"])
    sweep_rows = all_verdicts.merge(swept, on=["paper", "setup", "variant"], how="inner")
    if not sweep_rows.empty:
        verdicts = pd.concat([verdicts, sweep_rows], ignore_index=True)
    return verdicts


def load_verdicts(eng: Any, papers: Sequence[Any]) -> Evidence:
    """The verdicts and law tests of the papers' current setups, without trajectories and
    effects (what ``show`` and ``matrix --evidence`` need)."""
    from .laws import law_results

    if eng is None or not papers:
        return Evidence.empty()
    runs = _current_runs(eng, papers)
    if runs.empty:
        return Evidence.empty()
    return Evidence(verdicts=_verdicts_of(eng, runs, papers), laws=law_results(eng, papers))


def load_evidence(eng: Any, papers: Sequence[Any]) -> Any:
    """The stored evidence of the papers' current setups (empty when there is none)."""
    import pandas as pd

    from metaanalysis.evidence import read as ev

    from .laws import law_results

    if eng is None or not papers:
        return Evidence.empty()
    runs = _current_runs(eng, papers)
    if runs.empty:
        return Evidence.empty()
    trajectories, effects, run_rows = [], [], []
    frames_cache: dict[str, Any] = {}
    for r in runs.itertuples(index=False):
        key = {"paper": r.paper, "setup": r.setup, "variant": r.variant, "policy": r.policy,
               "config_hash": r.config_hash}
        agg = ev.aggregates(eng, r.config_hash).rename(columns={"n": "seeds"})
        trajectories.append(agg.assign(**key))
        if r.config_hash not in frames_cache:
            frames_cache[r.config_hash] = ev.load_frame(eng, r.config_hash)
        frame = frames_cache[r.config_hash]
        if frame is not None:
            effects.append({**key, "family": r.simulator, **log_risk_ratio(frame).as_dict()})
        run_rows.append({**key, "run_id": r.config_hash, "simulator": r.simulator, "seeds": r.seeds,
                         "iterations": r.iterations, "provenance": ev.run_provenance(eng, r.config_hash) or {}})
    return Evidence(
        verdicts=_verdicts_of(eng, runs, papers),
        trajectories=pd.concat(trajectories, ignore_index=True) if trajectories else None,
        effects=effects or None,
        runs=run_rows,
        laws=law_results(eng, papers),
    )


__all__ = [
    "EFFECT_COLUMNS", "Evidence", "RUN_COLUMNS", "RunEvidence", "TRAJECTORY_COLUMNS", "VARIANTS",
    "VERDICT_COLUMNS", "evidence_from_runs", "link_label", "load_evidence", "load_verdicts", "run_key",
    "trajectory_summary", "unique_runs",
]
