"""The record models of the annotation database: one source of truth for its shape.

These are plain pydantic models (``extra="forbid"``, strict types so that YAML 1.1's
conversions never slip through: ``2310.10010`` stays a float and is rejected for ``arxiv``,
``no`` stays a boolean and is rejected for ``explicit_definition``). ``mcatlas schema`` prints
:func:`paper_json_schema`; ``annotations/paper.schema.json`` is that output, checked in.

What a single field cannot express is checked in :mod:`metaanalysis.annotations.validation` (claim ids
unique, ``reproduces`` pointing at claims, ``real_fraction`` with ``mix``/``fresh`` only,
simulator names and parameters, realism dimensions and levels from ``realism.yaml``, and
uniqueness across files). The SQL rows of :mod:`metaanalysis.store` are built *from* these
validated records, never the other way round (sqlmodel table models skip validation).

Ordering: ``figure_order`` is the row of a paper in the position paper's Figure 2 (Schaeffer
et al., arXiv 2503.03150). The matrix lists papers with a ``figure_order`` first, by it, then
the others by year, month (missing months last) and key — see :func:`matrix_order`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from simulators.vocabulary import (
    CLAIM_OUTCOMES,
    DEFINITION_FAMILIES,
    DEFINITIONS,
    EXPLICIT_DEFINITION,
    FAMILIES,
    FIDELITIES,
    LAWS,
    METRICS,
    MODEL_FAMILIES,
    POLICIES,
    USAGES,
)

from .order import matrix_order

KEY_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ARXIV_PATTERN = r"^\d{4}\.\d{4,5}$"
DOI_PATTERN = r"^10\.\d{4,9}/\S+$"
URL_PATTERN = r"^https?://\S+$"

DefinitionId = Literal[DEFINITIONS]  # type: ignore[valid-type]
Usage = Literal[USAGES]  # type: ignore[valid-type]
PolicyId = Literal[POLICIES]  # type: ignore[valid-type]
ExplicitDefinition = Literal[EXPLICIT_DEFINITION]  # type: ignore[valid-type]
Outcome = Literal[CLAIM_OUTCOMES]  # type: ignore[valid-type]
ModelFamily = Literal[MODEL_FAMILIES]  # type: ignore[valid-type]
Fidelity = Literal[FIDELITIES]  # type: ignore[valid-type]
MetricId = Literal[METRICS]  # type: ignore[valid-type]
FamilyName = Literal[FAMILIES]  # type: ignore[valid-type]
LawId = Literal[tuple(LAWS)]  # type: ignore[valid-type]

Text = Annotated[str, StringConstraints(min_length=1)]
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=80)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=80)]
Fraction = Annotated[float, Field(gt=0, le=1, strict=False)]
Ratio = Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False, strict=False)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Claim(_Record):
    """What a paper reports, about one definition of collapse."""

    id: Slug = Field(description="Slug, unique within the paper.")
    statement: Text = Field(description="The claim in one sentence, in our own words.")
    definition: DefinitionId = Field(description="The definition of collapse it is about.")
    outcome: Outcome = Field(description="What the paper reports.")
    policy: PolicyId = Field(description="The data policy under which it is claimed.")
    model_family: ModelFamily = Field(description="The model class it is about.")
    where: Text = Field(description="Figure, table, section or theorem of the paper.")
    law: LawId | None = Field(
        default=None,
        description="A specific law the claim states (listed in CONTRIBUTING.md); the claim is then judged "
        "by the test of that law on its setups' runs, not by counting collapse verdicts.",
    )


class RealisticOverrides(_Record):
    """How a setup's realistic rerun differs from the project-wide realistic defaults."""

    policy: PolicyId | None = None
    real_fraction: Fraction | None = None
    iterations: Annotated[int, Field(ge=1, le=100_000)] | None = None
    seeds: Annotated[int, Field(ge=1, le=10_000)] | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="Parameter overrides.")
    note: Text | None = None


class Setup(_Record):
    """A runnable configuration that stands for one of the paper's experiments."""

    name: Slug = Field(description="Slug, unique within the paper.")
    simulator: Text = Field(description="A registered simulator name (mcatlas simulators).")
    params: dict[str, Any] = Field(
        default_factory=dict, description="The simulator's parameters; others keep defaults."
    )
    policy: PolicyId
    real_fraction: Fraction | None = Field(
        default=None, description="Share of real data; only (and required) with mix | fresh."
    )
    synthetic_ratio: Ratio | None = Field(
        default=None,
        description="Synthetic samples each model contributes per iteration, as a multiple of n "
        "(default 1: as many as the real samples; mix | fresh: of the n - k non-real places). "
        "Applies to every variant of the setup (simulators.policies).",
    )
    seeds: Annotated[int, Field(ge=1, le=10_000)]
    iterations: Annotated[int, Field(ge=1, le=100_000)]
    reproduces: list[Slug] = Field(default_factory=list, description="Claim ids of this paper.")
    fidelity: Fidelity
    note: Text = Field(description="One line on how the setup differs from the paper.")
    realistic: RealisticOverrides | None = None
    sweep_n: list[Annotated[int, Field(ge=2)]] | None = Field(
        default=None,
        description=(
            "Optional sweep over n (3 or more distinct values, each a valid n of the simulator): "
            "the setup then stands for one run per n (params with n replaced, linked as "
            "NAME@n=N), and its scaling-law-change verdict is measured across them."
        ),
    )


class RealismScore(_Record):
    """A paper's level on one realism dimension of ``realism.yaml``, with a justification."""

    level: Text
    why: Text


#: the name of the position paper's Figure 2 as a source of definition marks
FIGURE2_SOURCE = "figure2"
#: the name of mcatlas's own annotation as a source of definition marks
MCATLAS_SOURCE = "mcatlas"


class SourceMark(_Record):
    """One definition as a source other than Figure 2 marks it, with where it comes from."""

    usage: Usage
    where: Text = Field(description="Where in the paper the mark comes from (section, figure, theorem).")


class SourceMarks(_Record):
    """Another annotator's judgement of the paper's definitions (its own explicit-definition flag
    and marks; a definition it does not list is one it judges not used)."""

    source: Slug = Field(description="Who judged: 'mcatlas' or a contributor's name (not 'figure2').")
    explicit_definition: ExplicitDefinition
    definitions: dict[DefinitionId, SourceMark] = Field(
        default_factory=dict, description="Definition id -> usage and where; unlisted = not used."
    )
    basis: Text = Field(description="What was read, e.g. 'arXiv v1 full text' or 'abstract and introduction'.")

    def usages(self) -> dict[str, str]:
        return {d: m.usage for d, m in self.definitions.items()}


class Paper(_Record):
    """One annotated paper: ``annotations/papers/KEY.yaml``.

    Definition marks are an annotator's judgement. ``definitions`` and ``explicit_definition``
    are the *consensus* shown by default: the position paper's Figure 2 for the papers it shows
    (``figure_order`` set), mcatlas's own annotation for the others (:attr:`consensus_source`).
    Other judgements, mcatlas's own for a Figure 2 paper or a contributor's who disagrees with
    an existing mark, are added under ``marks`` (one entry per source, each mark citing where
    in the paper it comes from) instead of overwriting the consensus.
    """

    key: Key = Field(description="Citation-style key; equals the file name without .yaml.")
    title: Text
    authors: Annotated[list[Text], Field(min_length=1)]
    year: Annotated[int, Field(ge=1900, le=2100)]
    month: Annotated[int, Field(ge=1, le=12)] | None = Field(
        default=None, description="Release month of the first public version."
    )
    venue: Text | None = None
    arxiv: Annotated[str, StringConstraints(pattern=ARXIV_PATTERN)] | None = Field(
        default=None, description='New-style arXiv id, always quoted: "2305.17493".'
    )
    doi: Annotated[str, StringConstraints(pattern=DOI_PATTERN)] | None = Field(
        default=None, description='DOI, quoted: "10.1038/s41586-024-07566-y".'
    )
    arxiv_version: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="The arXiv version (the N of vN) that the claims' `where` fields and the "
        "identification refer to; section, figure and theorem numbers change between versions.",
    )
    url: Annotated[str, StringConstraints(pattern=URL_PATTERN)] | None = None
    label: Text = Field(description="The paper's label in the position paper's Figure 2.")
    figure_order: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Row in the position paper's Figure 2; the matrix orders rows by it.",
    )
    explicit_definition: ExplicitDefinition = Field(
        description='Whether the paper states an explicit definition: "yes" | "no" | "n/a".'
    )
    definitions: dict[DefinitionId, Usage] = Field(
        description="Definition id -> explicit | implicit; may be empty."
    )
    data_policies: list[PolicyId] = Field(default_factory=list)
    identification_note: Text | None = None
    notes: Text | None = None
    source: Text | None = Field(default=None, description="Where the annotation comes from.")
    claims: list[Claim] = Field(default_factory=list)
    setups: list[Setup] = Field(default_factory=list)
    realism: dict[Slug, RealismScore] = Field(
        default_factory=dict, description="Dimension id of realism.yaml -> level and why."
    )
    marks: list[SourceMarks] = Field(
        default_factory=list,
        description="Other annotators' definition marks (the consensus is `definitions`).",
    )

    @field_validator("data_policies")
    @classmethod
    def _unique_policies(cls, value: list[str]) -> list[str]:
        dup = sorted({p for p in value if value.count(p) > 1})
        if dup:
            raise ValueError(f"listed more than once: {', '.join(dup)}")
        return value

    @field_validator("marks")
    @classmethod
    def _distinct_sources(cls, value: list[SourceMarks], info: ValidationInfo) -> list[SourceMarks]:
        consensus = FIGURE2_SOURCE if info.data.get("figure_order") is not None else MCATLAS_SOURCE
        names = [m.source for m in value]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"source listed more than once: {', '.join(dup)}")
        if consensus in names:
            raise ValueError(f"{consensus!r} is this paper's consensus source: its marks are `definitions`; "
                             "add yours under your own name")
        if FIGURE2_SOURCE in names:
            raise ValueError(f"{FIGURE2_SOURCE!r} marks only the papers of Figure 2, as their `definitions`")
        return value

    def sort_key(self) -> tuple:
        """Matrix order: figure rows first (by ``figure_order``), then year, month, key."""
        return matrix_order(self)

    def definitions_in_order(self) -> dict[str, str]:
        """The paper's definitions in vocabulary order."""
        return {d: self.definitions[d] for d in DEFINITIONS if d in self.definitions}

    @property
    def consensus_source(self) -> str:
        """The source of ``definitions``: Figure 2 for its papers, else mcatlas."""
        return FIGURE2_SOURCE if self.figure_order is not None else MCATLAS_SOURCE

    def sources(self) -> list[str]:
        """Every source that judged the paper's definitions, the consensus first."""
        return [self.consensus_source, *(m.source for m in self.marks)]

    def judgement(self, source: str) -> tuple[str, dict[str, str]] | None:
        """``(explicit_definition, {definition: usage})`` of one source, or None if it did not
        judge this paper."""
        if source == self.consensus_source:
            return self.explicit_definition, dict(self.definitions)
        for m in self.marks:
            if m.source == source:
                return m.explicit_definition, m.usages()
        return None


# -- the two vocabulary files -----------------------------------------------------------------


class DefinitionEntry(_Record):
    """One definition in ``annotations/definitions.yaml``."""

    id: DefinitionId
    name: Text
    family: FamilyName
    description: Text
    metrics: list[MetricId] = Field(default_factory=list)
    notes: Text | None = None


class FamilyEntry(_Record):
    """One family of definitions (optional section of ``definitions.yaml``)."""

    id: FamilyName
    name: Text | None = None
    description: Text | None = None


class DefinitionsFile(_Record):
    """``annotations/definitions.yaml``: the 8 definitions, in vocabulary order."""

    definitions: list[DefinitionEntry]
    families: list[FamilyEntry] = Field(default_factory=list)
    source: Text | None = None
    notes: Text | None = None


class RealismLevel(_Record):
    id: Slug
    score: Annotated[int, Field(ge=0)]
    description: Text


class RealismDimension(_Record):
    id: Slug
    name: Text
    description: Text
    levels: Annotated[list[RealismLevel], Field(min_length=2)]


class RealismWeight(_Record):
    method: Text
    description: Text


class RealisticDefaults(BaseModel):
    """Project-wide realistic-rerun defaults; further documented keys are allowed."""

    model_config = ConfigDict(extra="allow", strict=True)

    policy: PolicyId
    max_iterations: Annotated[int, Field(ge=1)]
    real_fraction: Fraction | None = None


class RealismFile(_Record):
    """``annotations/realism.yaml``: dimensions (ordered levels), weight, realistic defaults."""

    dimensions: Annotated[list[RealismDimension], Field(min_length=1)]
    weight: RealismWeight
    realistic_defaults: RealisticDefaults
    source: Text | None = None
    notes: Text | None = None

    def levels(self) -> dict[str, dict[str, int]]:
        """Dimension id -> {level id: score}."""
        return {d.id: {lv.id: lv.score for lv in d.levels} for d in self.dimensions}


def paper_json_schema() -> dict[str, Any]:
    """The JSON Schema of a paper record (what ``mcatlas schema`` prints)."""
    schema = Paper.model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }
    schema["description"] = (
        "One annotated paper of the Model Collapse Atlas (annotations/papers/KEY.yaml). "
        "Generated by `mcatlas schema` from metaanalysis.annotations.records.Paper; do not edit."
    )
    return schema


def paper_json_schema_text() -> str:
    """The schema as the exact text of ``annotations/paper.schema.json``."""
    return json.dumps(paper_json_schema(), indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "Claim",
    "DEFINITION_FAMILIES",
    "DefinitionsFile",
    "Paper",
    "RealismFile",
    "RealismScore",
    "RealisticOverrides",
    "Setup",
    "paper_json_schema",
    "paper_json_schema_text",
]
