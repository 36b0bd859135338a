"""Tables of the case store. Times are ISO-8601 UTC strings; JSON columns hold lists and objects."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 1
metadata = MetaData()

meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text))

claimants = Table(
    "claimants", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(512), nullable=False, unique=True),
)

works = Table(
    "works", metadata,
    Column("id", Integer, primary_key=True),
    Column("claimant_id", Integer, ForeignKey("claimants.id"), nullable=False),
    Column("title", String(1024), nullable=False),
    Column("identifiers", JSON, nullable=False, default=dict),  # ISBN, registration number, ...
    Column("inputs", JSON, nullable=False, default=list),
    Column("added_at", String(32), nullable=False),
    UniqueConstraint("claimant_id", "title"),
)

work_files = Table(
    "work_files", metadata,
    Column("id", Integer, primary_key=True),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("language", String(32), nullable=False),
    Column("text", Text, nullable=False),
)

# CMI detected in each work file when the work is added (`cmi scan` format); scope "repository" marks
# LICENSE/COPYING and package metadata at the work's root, which apply to the whole work.
work_cmi = Table(
    "work_cmi", metadata,
    Column("work_file_id", Integer, ForeignKey("work_files.id"), primary_key=True),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("scope", String(16), nullable=False),
    Column("cmi", JSON, nullable=False),
)

sources = Table(
    "sources", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # corpus | outputs
    Column("inputs", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("keyed", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),  # indexing | complete
    Column("documents", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("index_dir", Text, nullable=False),
    Column("added_at", String(32), nullable=False),
)

outputs = Table(
    "outputs", metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False, index=True),
    Column("doc_id", Integer, nullable=False),
    Column("locator", Text, nullable=False),
    Column("prompt", Text),
    Column("model", String(256)),
    Column("timestamp", String(64)),
    UniqueConstraint("source_id", "doc_id"),
)

skipped = Table(
    "skipped", metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", String(32), nullable=False),
    Column("source", String(256)),
    Column("input", Text, nullable=False),
    Column("locator", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("fix", Text, nullable=False),
    Column("at", String(32), nullable=False),
)

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", String(32), nullable=False),
    Column("manifest", JSON, nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("seconds", Float, nullable=False),
)

evidence = Table(
    "evidence", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("work_file_id", Integer, ForeignKey("work_files.id"), nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("doc_id", Integer, nullable=False),
    Column("doc_locator", Text, nullable=False),
    Column("copied", Boolean, nullable=False),
    Column("coverage", Float, nullable=False),
    Column("own_coverage", Float, nullable=False),
    Column("longest_run_tokens", Integer, nullable=False),
    Column("fragments", Integer, nullable=False),
    Column("identical", Boolean),
    Column("byte_identical", Boolean, nullable=False),
    Column("rarity_docs", Integer, nullable=False),
    Column("metrics", JSON, nullable=False),  # the full measure() record, spans included
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("ok", Boolean, nullable=False),
)

# `ascertain probe`: a probe run per model and parameters (a rerun with the same key resumes it); every
# prompt and output in `probes`, failed ones included, append-only; figures in `probe_results` (kind probe).
probe_runs = Table(
    "probe_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),  # sha256 of model fingerprint, params, inputs
    Column("model", JSON, nullable=False),  # id, sha256 or API fingerprint, capability, details
    Column("params", JSON, nullable=False),  # decoding parameters and seeds of every tier
    Column("status", String(16), nullable=False),  # running | complete
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
)

probes = Table(
    "probes", metadata,
    Column("id", Integer, primary_key=True),
    Column("probe_run_id", Integer, ForeignKey("probe_runs.id"), nullable=False, index=True),
    Column("tier", String(1), nullable=False),  # A reproduction | B dataset inference features
    Column("key", String(512), nullable=False),
    Column("work_id", Integer, ForeignKey("works.id")),  # null for control texts
    Column("subject", Text, nullable=False),  # work file path or control locator
    Column("control", Boolean, nullable=False),
    Column("mode", String(16), nullable=False),  # greedy | sample | score | skipped
    Column("prompt", Text, nullable=False),
    Column("output", Text, nullable=False),
    Column("decoding", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # ok | error | skipped
    Column("error", Text),
    Column("metrics", JSON, nullable=False),
    Column("at", String(32), nullable=False),
)

probe_results = Table(
    "probe_results", metadata,
    Column("id", Integer, primary_key=True),
    Column("probe_run_id", Integer, ForeignKey("probe_runs.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False, default="probe"),
    Column("tier", String(1), nullable=False),
    Column("work_id", Integer, ForeignKey("works.id")),
    Column("claimant_id", Integer, ForeignKey("claimants.id")),
    Column("result", JSON, nullable=False),
    Column("at", String(32), nullable=False),
)
