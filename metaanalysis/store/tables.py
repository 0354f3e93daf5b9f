"""The sqlmodel tables of the annotation index (see :mod:`metaanalysis.store`).

Kept apart from :mod:`metaanalysis.store` so that read-only commands whose index is current
(``mcatlas matrix --format csv``) never import sqlmodel's ORM or pydantic: they read with
SQLAlchemy Core. The evidence tables (:mod:`metaanalysis.evidence.tables`) share the same
``SQLModel.metadata``.
"""

from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class PaperRow(SQLModel, table=True):
    __tablename__ = "paper"

    key: str = Field(primary_key=True)
    title: str
    authors: list[str] = Field(sa_column=Column(JSON, nullable=False))
    year: int = Field(index=True)
    month: Optional[int] = None
    venue: Optional[str] = None
    arxiv: Optional[str] = Field(default=None, index=True)
    doi: Optional[str] = Field(default=None, index=True)
    arxiv_version: Optional[int] = None
    url: Optional[str] = None
    label: str
    figure_order: Optional[int] = None
    explicit_definition: str
    identification_note: Optional[str] = None
    notes: Optional[str] = None
    source: Optional[str] = None
    #: other annotators' marks (:class:`metaanalysis.annotations.records.SourceMarks` dumps)
    marks: Optional[list] = Field(default=None, sa_column=Column(JSON, nullable=True))
    file: str = ""


class _OfPaper(SQLModel):
    """The key every child row of a paper starts with."""

    paper_key: str = Field(foreign_key="paper.key", primary_key=True)


class DefinitionUsageRow(_OfPaper, table=True):
    __tablename__ = "definition_usage"

    definition: str = Field(primary_key=True, index=True)
    usage: str


class PaperPolicyRow(_OfPaper, table=True):
    __tablename__ = "paper_policy"

    policy: str = Field(primary_key=True, index=True)
    position: int = 0


class ClaimRow(_OfPaper, table=True):
    __tablename__ = "claim"

    id: str = Field(primary_key=True)
    position: int = 0
    statement: str
    definition: str = Field(index=True)
    outcome: str
    policy: str
    model_family: str
    where: str
    law: Optional[str] = None


class SetupRow(_OfPaper, table=True):
    __tablename__ = "setup"

    name: str = Field(primary_key=True)
    position: int = 0
    simulator: str = Field(index=True)
    params: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    policy: str
    real_fraction: Optional[float] = None
    synthetic_ratio: Optional[float] = None
    seeds: int
    iterations: int
    reproduces: list[str] = Field(sa_column=Column(JSON, nullable=False))
    fidelity: str
    note: str
    realistic: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    sweep_n: Optional[list[int]] = Field(default=None, sa_column=Column(JSON, nullable=True))


class RealismScoreRow(_OfPaper, table=True):
    __tablename__ = "realism_score"

    dimension: str = Field(primary_key=True)
    position: int = 0
    level: str
    why: str


class MetaRow(SQLModel, table=True):
    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str


#: the tables :func:`sync` rebuilds (children first, for deletion)
ANNOTATION_TABLES = (DefinitionUsageRow, PaperPolicyRow, ClaimRow, SetupRow, RealismScoreRow, PaperRow)
