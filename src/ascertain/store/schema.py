"""Tables of the case store. Times are ISO-8601 UTC strings; JSON columns hold lists and objects."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
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
    # hash chain (report/audit_chain.py): each entry's sha256 covers its fields and the previous entry's hash
    Column("prev_hash", String(64)),
    Column("entry_hash", String(64)),
)

# Exhibit numbers are assigned once per (work file, source, document) and never reused, so the same evidence
# keeps its number (ASC-000123) on every rerun and report.
exhibit_numbers = Table(
    "exhibit_numbers", metadata,
    Column("number", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),  # sha256 of work file sha256, path, source, locator
    Column("assigned_at", String(32), nullable=False),
)

# --- Class ascertainment (classes/). New tables only: create_all adds them to an older case store. ---

# Bibliographic details of a work (any work: with files or metadata-only). Keys are the folded forms
# (text/bibliographic.py) that linkage and lookup compare.
work_details = Table(
    "work_details", metadata,
    Column("work_id", Integer, ForeignKey("works.id"), primary_key=True),
    Column("authors", JSON, nullable=False, default=list),
    Column("isbns", JSON, nullable=False, default=list),  # ISBN-13, checked
    Column("other_ids", JSON, nullable=False, default=dict),  # ASIN, DOI, ...
    Column("publication_date", String(10)),  # YYYY-MM-DD, or YYYY-MM / YYYY when only that is known
    Column("language", String(32)),
    Column("work_type", String(64)),
    Column("registration_number", String(16), index=True),
    Column("title_key", String(1024), nullable=False, index=True),
    Column("author_key", String(1024), nullable=False),
    Column("metadata_only", Boolean, nullable=False),
    Column("row", Text),  # where the work was listed (file:row)
)

# Everyone with a claim in a work, once per role (legal owner / beneficial owner / co-owner).
work_owners = Table(
    "work_owners", metadata,
    Column("work_id", Integer, ForeignKey("works.id"), primary_key=True),
    Column("claimant_id", Integer, ForeignKey("claimants.id"), primary_key=True),
    Column("role", String(32), primary_key=True),
    Column("share", Float),
)

registrations = Table(
    "registrations", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(16), nullable=False, unique=True),  # normalized, e.g. TX0009000001
    Column("effective_date", String(10), nullable=False),
    Column("title", Text, nullable=False),
    Column("title_key", String(1024), nullable=False, index=True),
    Column("claimants", JSON, nullable=False, default=list),
    Column("authors", JSON, nullable=False, default=list),
    Column("author_key", String(1024), nullable=False),
    Column("publication_date", String(10)),
    Column("isbns", JSON, nullable=False, default=list),
    Column("group_registration", Boolean, nullable=False, default=False),
    Column("supplementary", Boolean, nullable=False, default=False),
    Column("extra", JSON, nullable=False, default=dict),  # unmapped columns, kept with --keep-unknown
    Column("row", Text, nullable=False),  # file:row it came from
    Column("import_id", Integer, nullable=False),  # runs.id of the import
)

# The contents of a registration that covers several works (a group registration, a collective work, a unit of
# publication): one row per work it lists, from a contents column of the registrations file or a contents file.
registration_contents = Table(
    "registration_contents", metadata,
    Column("id", Integer, primary_key=True),
    Column("registration_id", Integer, ForeignKey("registrations.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # 1-based place in the registration's contents
    Column("title", Text, nullable=False),
    Column("title_key", String(1024), nullable=False, index=True),
    Column("authors", JSON, nullable=False, default=list),  # empty: the registration's authors
    Column("author_key", String(1024), nullable=False),
    Column("publication_date", String(10)),  # the listed work's own date of publication, if the record has it
    Column("row", Text, nullable=False),  # file:row it came from
    UniqueConstraint("registration_id", "position"),
)

# ISBNs of registrations, one row each, so a lookup by ISBN is an index search, not a scan of every record.
registration_isbns = Table(
    "registration_isbns", metadata,
    Column("isbn", String(13), primary_key=True),
    Column("registration_id", Integer, ForeignKey("registrations.id"), primary_key=True),
)

# Links works <-> registrations. status: accepted | review | rejected. Reviewers' decisions are kept here
# and in the audit log.
registration_links = Table(
    "registration_links", metadata,
    Column("id", Integer, primary_key=True),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("registration_id", Integer, ForeignKey("registrations.id"), nullable=False, index=True),
    Column("method", String(32), nullable=False),  # registration_number | isbn | probabilistic
    Column("score", Float, nullable=False),  # 1.0 for identifiers; match probability otherwise
    Column("agreeing", JSON, nullable=False),  # fields that agreed, with their comparison level
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("decided_by", String(32), nullable=False),  # rule | reviewer
    Column("run_id", Integer, nullable=False),
    UniqueConstraint("work_id", "registration_id"),
)

# One decision per work, class (or class/subclass) and criterion, from one `classes` run.
class_decisions = Table(
    "class_decisions", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("class_name", String(256), nullable=False),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("criterion", String(64), nullable=False),
    Column("wanted", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("evidence_ids", JSON, nullable=False, default=list),
)

# Each member's membership of each class in the latest `classes` run: its evidence tier (text, identifier,
# metadata, reviewer) and what it rests on (evidence ids and coverage, the identifier, the fields and score).
class_memberships = Table(
    "class_memberships", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("class_name", String(256), nullable=False),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("tier", String(16), nullable=False),
    Column("detail", JSON, nullable=False),
)

# A party's challenge to a member of a class (Carrera: the defendant can test membership) and the master's
# resolution: upheld (the work leaves the class) or rejected (it stays, by the master's decision).
disputes = Table(
    "disputes", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_name", String(256), nullable=False),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("opened_by", String(128), nullable=False),
    Column("role", String(16), nullable=False),  # defendant | plaintiff | master | claims | cli
    Column("reason", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # what the party offers (a document, an id, a URL, a note)
    Column("status", String(16), nullable=False),  # open | upheld | rejected
    Column("resolution", Text),
    Column("resolved_by", String(128)),
    Column("opened_at", String(32), nullable=False),
    Column("resolved_at", String(32)),
)

# Transfers of ownership and licences of a work, with their dates: an assignment on or before the date
# infringement began changes who holds the claim; an exclusive licence adds an exclusive licensee.
ownership_transfers = Table(
    "ownership_transfers", metadata,
    Column("id", Integer, primary_key=True),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # assignment | exclusive licence | non-exclusive licence
    Column("from_name", String(512), nullable=False),
    Column("to_name", String(512), nullable=False),
    Column("date", String(10), nullable=False),
    Column("row", Text, nullable=False),
)

samples = Table(
    "samples", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_name", String(256), nullable=False),
    Column("class_run_id", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("strata", String(64)),
    Column("size", Integer, nullable=False),
    Column("population", Integer, nullable=False),
    Column("sheet", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

sample_items = Table(
    "sample_items", metadata,
    Column("sample_id", Integer, ForeignKey("samples.id"), primary_key=True),
    Column("work_id", Integer, ForeignKey("works.id"), primary_key=True),
    Column("stratum", String(256), nullable=False),
    Column("stratum_population", Integer, nullable=False),
    Column("copied", Boolean),  # reviewer's label: confirmed copied
    Column("in_corpus", Boolean),  # reviewer's label: the work is in the corpus
    Column("reviewer", String(256)),
    Column("note", Text),
    Column("labelled_at", String(32)),
)

# A sampling protocol, fixed and hashed before the draw and before any label: the population and frame, the
# strata, the question and the standard (de minimis threshold, or none), the sample size computed for it, the
# seed, the reviewers and the labelling rules. `sample_id` is filled when the protocol's sample is drawn.
sampling_protocols = Table(
    "sampling_protocols", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_name", String(256), nullable=False),
    Column("protocol", JSON, nullable=False),  # the canonical record the hash covers
    Column("sha256", String(64), nullable=False),
    Column("sample_id", Integer),
    Column("created_at", String(32), nullable=False),
)

# Blinded double labelling: each reviewer's own labels of a sample (never shown to the other reviewer), and the
# master's adjudication of the items on which they disagree.
sample_labels = Table(
    "sample_labels", metadata,
    Column("id", Integer, primary_key=True),
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False),
    Column("reviewer", String(256), nullable=False),
    Column("copied", Boolean, nullable=False),
    Column("in_corpus", Boolean, nullable=False),
    Column("note", Text),
    Column("sheet_sha256", String(64), nullable=False),
    Column("labelled_at", String(32), nullable=False),
    UniqueConstraint("sample_id", "work_id", "reviewer"),
)

adjudications = Table(
    "adjudications", metadata,
    Column("sample_id", Integer, ForeignKey("samples.id"), primary_key=True),
    Column("work_id", Integer, ForeignKey("works.id"), primary_key=True),
    Column("copied", Boolean, nullable=False),
    Column("in_corpus", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", String(256), nullable=False),
    Column("decided_at", String(32), nullable=False),
)

# --- Web application (web/): users, API tokens. Passwords are argon2 hashes; tokens are kept as sha256. ---
web_users = Table(
    "web_users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # master | plaintiff | defendant | claims | public
    Column("password_hash", Text),
    Column("created_at", String(32), nullable=False),
)

web_tokens = Table(
    "web_tokens", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("web_users.id"), nullable=False, index=True),
    Column("created_at", String(32), nullable=False),
)

# Sign-in sessions, kept by the server so that signing out, a password change, `users revoke` and `users
# remove` end them (a signed cookie alone stays valid until it expires). New tables only: create_all adds them.
web_sessions = Table(
    "web_sessions", metadata,
    Column("nonce", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("web_users.id"), nullable=False, index=True),
    Column("started_at", String(32), nullable=False),
    Column("ended_at", String(32)),
)
# When an API token stops working (`users token --days`); a token without a row here never expires (older ones).
web_token_expiry = Table(
    "web_token_expiry", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("expires_at", String(32), nullable=False),
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

# --- Images (issue 27, images through the same stages as text). Kept in one block: other image tables (the
# metadata-only datasets') go in their own block. create_all adds these tables to an older case store. ---

# An image work's file: its descriptors and CMI as read when the work was added, and its bytes, so matching and
# exhibits never depend on the original path still being there. One row per image work file (work_files holds
# the path, sha256 and size like any work file; its language is "image" and its text empty).
work_images = Table(
    "work_images", metadata,
    Column("work_file_id", Integer, ForeignKey("work_files.id"), primary_key=True),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("media_type", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("frames", Integer, nullable=False),
    Column("mode", String(16), nullable=False),  # stored mode before conversion (RGB, P, CMYK, I;16 ...)
    Column("pixel_sha256", String(64), nullable=False),  # of the decoded pixels (imaging/descriptors.py)
    Column("pdq", String(64), nullable=False),  # PDQ hash, hex, original orientation
    Column("pdq_dihedral", JSON, nullable=False),  # the 8 dihedral variants, hex, in imaging.descriptors.DIHEDRAL
    Column("pdq_quality", Integer, nullable=False),
    Column("cmi", JSON, nullable=False),  # cmi/image.py read_image_cmi: {"fields": {...}, "c2pa": bool, "errors"}
    Column("data", LargeBinary, nullable=False),
)

# Image evidence: one row per (image work file, distinct image content of a source) that `ascertain match`
# compared and kept. Tiers (imaging/compare.py): same_bytes, same_pixels, near_duplicate, region_copy.
#   work_region / copy_region: [x0, y0, x1, y1] as shares of each image's width and height (null for the whole
#     image: same_bytes, same_pixels, and a near-duplicate without a verified region);
#   work_area_share: the share of the work's area inside the copy;
#   transform: {"scale", "rotation_degrees", "mirrored", "orientation" (PDQ's dihedral match), "crop": share of
#     the work cut off at {"left", "top", "right", "bottom"}, "affine": 2 x 3 map of the work's decoded pixels into
#     the copy's, as the region's verification fitted it (also in facts.region)} (what is known for the tier);
#   cmi_status: the work's image CMI in the copy overall (retained | altered | removed | never_present), cmi: per
#     field {"work", "copy", "status": kept | altered | removed} (EXIF, IPTC, XMP incl. plus:DataMining), c2pa:
#     kept | removed | never_present;
#   copies: how many documents of the source hold these exact bytes (measured once, counted); every one of their
#     locators is in image_evidence_copies; doc_id/doc_locator name the first.
image_evidence = Table(
    "image_evidence", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("work_id", Integer, ForeignKey("works.id"), nullable=False, index=True),
    Column("work_file_id", Integer, ForeignKey("work_files.id"), nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False, index=True),
    Column("doc_id", Integer, nullable=False),
    Column("doc_locator", Text, nullable=False),
    Column("copy_sha256", String(64), nullable=False),
    Column("copied", Boolean, nullable=False),
    Column("tier", String(16), nullable=False),
    Column("pdq_distance", Integer, nullable=False),
    Column("work_area_share", Float, nullable=False),
    Column("work_region", JSON),
    Column("copy_region", JSON),
    Column("transform", JSON, nullable=False),
    Column("inliers", Integer, nullable=False),
    Column("cmi_status", String(16), nullable=False),
    Column("cmi", JSON, nullable=False),
    Column("c2pa", String(16), nullable=False),
    Column("copies", Integer, nullable=False),
    Column("caption", Text),  # the copy's caption (webdataset .txt / prompt of an output), as the source holds it
    Column("url", Text),
    Column("facts", JSON, nullable=False),  # the whole imaging.compare record the decision rests on
)

# Every document of the source holding the evidence's copy bytes (identical copies listed, never dropped).
image_evidence_copies = Table(
    "image_evidence_copies", metadata,
    Column("evidence_id", Integer, ForeignKey("image_evidence.id"), primary_key=True),
    Column("doc_id", Integer, primary_key=True),
    Column("locator", Text, nullable=False),
)

# The invisible-watermark check of every image of an output set (match/image_watermarks.py, imaging/watermark.py):
# one row per document; identical outputs are checked once and share the result. Provenance evidence about the
# output, whether or not it copies a work; `facts` holds the agreement with every known message and what the
# check can and cannot show.
image_watermarks = Table(
    "image_watermarks", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False, index=True),
    Column("doc_id", Integer, nullable=False),
    Column("locator", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # present | absent | unreadable
    Column("message", String(32)),  # the known message found (present), else null
    Column("closest", String(32)),  # the message agreeing best (present or not)
    Column("agree", Integer, nullable=False),  # bits of the closest message agreeing
    Column("bits", Integer, nullable=False),
    Column("p_family", Float, nullable=False),  # chance of as many agreeing bits under random bits (Bonferroni)
    Column("facts", JSON, nullable=False),
)

# ---- image metadata evidence (match/image_metadata.py) --------------------------------------------------------
# What a metadata-only image dataset (LAION/DataComp/COYO-style Parquet: URL, caption, sha256 or pHash; no images)
# holds about a claimant's works: the name in a caption (exact, transliterated, typo; by / style / mention), a
# domain or handle in the URL, a title in a caption, the SHA-256 of a work's bytes, a pHash within the threshold.
image_metadata_evidence = Table(
    "image_metadata_evidence", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False, index=True),
    Column("claimant_id", Integer, ForeignKey("claimants.id"), nullable=False, index=True),
    Column("work_id", Integer, ForeignKey("works.id")),  # null when the evidence is about the claimant (a name)
    Column("kind", String(32), nullable=False),  # caption_name | url_domain | url_handle | caption_title | ...
    Column("match", String(16), nullable=False),  # exact | translit | fuzzy | hamming
    Column("context", String(16), nullable=False),  # by | style | mention | url | hash
    Column("matched", Text, nullable=False),  # the text, URL part or hash as found in the row
    Column("target", Text, nullable=False),  # what it matched: the name, domain, handle, title or work hash
    Column("distance", Integer, nullable=False, default=0),  # edits (names) or differing bits (pHash)
    Column("file", Text, nullable=False),
    Column("row", BigInteger, nullable=False),  # 0-based row in the file
    Column("url", Text),
    Column("caption", Text),
)
