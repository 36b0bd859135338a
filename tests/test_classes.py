"""Class ascertainment on the demo case and on generated inputs: registrations, linkage, review, §412,
class files, samples, estimates (interval coverage by simulation), lookup."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.classes.criteria import load_class_file
from ascertain.classes.eligibility import decide
from ascertain.classes.estimates import intervals, sample_size, stratified
from ascertain.classes.facts import WorkFacts
from ascertain.classes.registrations import import_registrations
from ascertain.classes.sampling import allocate
from ascertain.cli import app
from ascertain.demo import run_demo
from ascertain.errors import AscertainError
from ascertain.store import schema

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("classes") / "demo"
    result = run_demo(root, None, report=False)  # the report has tests of its own (test_report.py)
    return root, result


def cli(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.stdout


def test_demo_planted_class_situations(demo):
    root, result = demo
    assert result["ok"], result
    c = result["classes"]
    # 10 + the 7 drawings of demo_data/images (copied as images, no registration); Pride and Prejudice is in the
    # corpus but in the public domain, so no member
    assert c["counts"]["in-corpus"]["works"] == 17 and c["counts"]["in-corpus/statutory"]["works"] == 5
    assert c["s412"] == {"eligible": 5, "not eligible": 11, "unknown": 3}  # python-rsa: also in an undated corpus
    assert c["estimate"]["uninjured"]["x"] + c["estimate"]["confirmed_copied"]["x"] == 6


def test_member_list_lists_owners_once_per_role_and_both_routes(demo):
    import pyarrow.parquet as pq

    root, _ = demo
    rows = {r["title"]: r for r in pq.read_table(root / "reports" / "classes" / "in-corpus.parquet").to_pylist()}
    assert rows["Salt and Circuitry"]["legal_owners"] == "Daniel Reyes"
    assert rows["Salt and Circuitry"]["beneficial_owners"] == "Harbor Lane Press (50%)"
    assert rows["Quiet Numbers"]["co_owners"] == "Priya Natarajan (50%); Wen Li (50%)"
    assert rows["python-rsa"]["in_corpus_by"] == "content + identifier" and rows["python-rsa"]["evidence_ids"]
    assert {r["unit_of_account"] for r in rows.values()} == {"work"}
    # an image work enters by its image copies (image evidence ids)
    assert rows["Saturn"]["in_corpus_by"] == "content" and rows["Saturn"]["evidence_ids"].startswith("image:")
    case = Case.open(root)
    with case.store.engine.connect() as c:  # one decision per work and criterion
        n = c.execute(select(func.count()).select_from(schema.class_decisions)
                      .where(schema.class_decisions.c.class_name == "in-corpus")).scalar()
    # 11 listed works + the demo's book + 7 drawings, one criterion each; the book's public-domain decision
    assert n == 20


def test_registration_bad_rows_skipped_rest_kept(demo):
    root, _ = demo
    case = Case.open(root)
    with case.store.engine.connect() as c:
        reasons = [r.reason for r in c.execute(select(schema.skipped).where(
            schema.skipped.c.stage == "registrations import"))]
        numbers = {r[0] for r in c.execute(select(schema.registrations.c.number))}
    assert any("duplicate registration number TX0009000003" in r for r in reasons)
    assert any("'2020-13-01' is not a date" in r for r in reasons)
    assert any("ISBN '0-306-40615-3' is impossible" in r for r in reasons)
    assert len(numbers) == 11 and "TX0008700001" in numbers


def test_registrations_unknown_column_refused_nothing_written(tmp_path):
    case = Case.init(tmp_path / "c")
    f = tmp_path / "r.csv"
    f.write_text("number,effective_date,title,shoe_size\nTX1,2020-01-01,A,42\n")
    with pytest.raises(AscertainError, match="unknown column.*shoe_size"):
        import_registrations(case, str(f))
    with case.store.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.registrations)).scalar() == 0
    r = import_registrations(case, str(f), keep_unknown=True)
    assert r["imported"] == 1
    with pytest.raises(AscertainError, match="mapped column"):
        import_registrations(case, str(f), mapping="title=nope")


def test_review_decision_recorded_and_kept_on_relink(demo, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(demo[0], root)
    links = json.loads(cli("review", str(root), "list", "--json"))
    assert links == []  # the demo accepted its one queued link
    case = Case.open(root)
    with case.store.engine.connect() as c:
        audit = [r.detail for r in c.execute(select(schema.audit_log).where(schema.audit_log.c.action == "review"))]
        rid = c.execute(select(schema.registration_links.c.id).where(
            schema.registration_links.c.decided_by == "reviewer")).scalar()
    assert audit and audit[0]["now"] == "accepted" and "revised edition" in audit[0]["reason"]
    r = runner.invoke(app, ["review", str(root), "reject", str(rid)])
    assert r.exit_code == 2 and "--reason" in r.output
    cli("review", str(root), "reject", str(rid), "--reason", "other book")
    cli("link", str(root))
    with case.store.engine.connect() as c:
        st = c.execute(select(schema.registration_links.c.status).where(schema.registration_links.c.id == rid)).scalar()
    assert st == "rejected"


def _facts(pub, regs, began_at, pending=0):
    f = WorkFacts(1, "t", [], [], pub, None, None, [])
    f.registrations = [{"number": f"TX{i}", "effective_date": d, "publication_date": None, "method": "isbn",
                        "score": 1.0, "group_registration": False} for i, d in enumerate(regs)]
    f.first_copy_at = {"corpus": began_at} if began_at else {}
    f.pending_links = pending
    return f


@pytest.mark.parametrize("pub,regs,began,status,words", [
    ("2020-01-01", ["2019-12-01"], "2021-01-01", "eligible", "before infringement began"),
    ("2020-01-01", ["2021-03-01"], "2021-01-01", "not eligible", "§412(2)"),
    ("2021-01-10", ["2021-04-09"], "2021-02-01", "eligible", "within three months"),
    ("2021-01-10", ["2021-04-11"], "2021-02-01", "not eligible", "§412(2)"),
    ("2021-06-01", ["2021-07-01"], "2021-03-01", "not eligible", "§412(1)"),
    (None, ["2021-07-01"], "2021-03-01", "unknown", "no publication date"),
    ("2021", ["2021-02-01"], "2021-01-15", "unknown", "too coarse"),
    ("2020-01-01", [], "2021-01-01", "not eligible", "§411(a)"),
    ("2020-01-01", ["2019-01-01"], None, "unknown", "no date for the start"),
])
def test_s412_rules(pub, regs, began, status, words):
    e = decide(_facts(pub, regs, began))
    assert e.status == status and words in e.reason, e
    assert decide(_facts(pub, [], began, pending=1)).status == "unknown"


def test_class_file_errors_name_the_line(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('unit = "work"\n[[class]]\nname = "a"\n[class.criteria]\nin_corpus = true\ncolour = "red"\n')
    with pytest.raises(AscertainError) as e:
        load_class_file(str(f))
    assert e.value.what.endswith("c.toml:6") and "unknown field 'colour'" in e.value.problem
    f.write_text('[[class]]\nname = "a"\n[class.criteria]\nin_corpus = = true\n')
    with pytest.raises(AscertainError, match="line 4"):
        load_class_file(str(f))
    f.write_text('[[class]]\nname = "a"\n[class.criteria]\ncoverage = "lots"\n')
    with pytest.raises(AscertainError) as e:
        load_class_file(str(f))
    assert e.value.what.endswith(":4") and "comparison" in e.value.problem
    f.write_text('unit = "author"\n[[class]]\nname = "a"\n[class.criteria]\nin_corpus = true\n')
    with pytest.raises(AscertainError, match="unit of account"):
        load_class_file(str(f))


def test_unit_of_account_registration_counts_editions_once_each(demo, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(demo[0], root)
    f = tmp_path / "c.toml"
    f.write_text('unit = "registration"\n[[class]]\nname = "books"\n[class.criteria]\nin_corpus = true\n'
                 'registered = true\n')
    r = json.loads(cli("classes", str(root), "--file", str(f), "--json"))
    assert r["unit"] == "registration"
    assert r["counts"]["books"]["units"] == r["counts"]["books"]["works"] + 1  # Quiet Numbers: two editions


def test_sample_is_seeded_and_stratified(demo, tmp_path):
    root, _ = demo
    a = json.loads(cli("sample", str(root), "--class", "in-corpus", "--size", "5", "--seed", "3",
                       "--sheet", str(tmp_path / "a.csv"), "--json"))
    b = json.loads(cli("sample", str(root), "--class", "in-corpus", "--size", "5", "--seed", "3",
                       "--sheet", str(tmp_path / "b.csv"), "--json"))
    import csv

    def works(name):
        return [(r["work_id"], r["title"]) for r in csv.DictReader(open(tmp_path / name, encoding="utf-8"))]

    assert a["sample_id"] != b["sample_id"] and works("a.csv") == works("b.csv") and len(works("a.csv")) == 5
    s = json.loads(cli("sample", str(root), "--class", "in-corpus", "--size", "5", "--seed", "3",
                       "--strata", "in_corpus_by", "--sheet", str(tmp_path / "s.csv"), "--json"))
    assert sum(s["allocation"].values()) == 5 and set(s["allocation"]) == {"content", "content+identifier",
                                                                           "identifier"}
    assert allocate({"a": 900, "b": 90, "c": 10}, 100) == {"a": 90, "b": 9, "c": 1}
    assert allocate({"a": 5, "b": 3, "c": 2}, 5) == {"a": 3, "b": 1, "c": 1}


def test_labels_bad_rows_and_estimate(demo, tmp_path):
    root, _ = demo
    s = json.loads(cli("sample", str(root), "--class", "in-corpus", "--size", "4", "--seed", "11",
                       "--sheet", str(tmp_path / "s.csv"), "--json"))
    lines = (tmp_path / "s.csv").read_text().splitlines()
    rows = [lines[0]]
    for n, line in enumerate(lines[1:]):
        cells = line.split(",")
        cells[-4:-2] = [("yes", "yes"), ("no", "no"), ("maybe", "yes"), ("yes", "no")][n]
        rows.append(",".join(cells))
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    r = json.loads(cli("labels", "import", str(root), str(tmp_path / "s.csv"), "--json"))
    assert r["labelled"] == 2 and r["skipped"] == 2
    e = json.loads(cli("estimate", str(root), "--class", "in-corpus", "--sample", str(s["sample_id"]), "--json"))
    assert e["labelled"] == 2 and e["confirmed_copied"]["x"] == 1 and e["uninjured"]["x"] == 1
    lo, hi = e["confirmed_copied"]["clopper_pearson"]
    assert lo < 0.5 < hi and "not labelled" in e["note"]
    m = json.loads(cli("estimate", str(root), "--class", "in-corpus", "--margin", "0.05", "--json"))
    assert m["sample_size"] == 17  # the whole class of 17 (10 text works, 7 drawings)
    assert sample_size(0.05, 1_000_000) == 384 and sample_size(0.05, 0) == 385 and sample_size(0.05, 9541) == 370


def test_interval_coverage_by_simulation():
    """Nominal 95 %: over many simulated classes (true share, size) each interval covers the class's true share
    at least 94 % of the time. Samples are drawn without replacement (hypergeometric)."""
    rng = np.random.default_rng(20260101)
    hits = {"clopper_pearson": 0, "wilson": 0, "stratified": 0}
    trials = 1500
    for _ in range(trials):
        N = int(rng.integers(2_000, 20_000))
        p = float(rng.uniform(0.02, 0.98))
        K = int(round(N * p))
        n = int(rng.integers(80, 400))
        x = int(rng.hypergeometric(K, N - K, n))
        r = intervals(x, n)
        for k in ("clopper_pearson", "wilson"):
            hits[k] += r[k][0] <= K / N <= r[k][1]
        # two strata with different shares
        N1 = N // 3
        K1 = int(round(N1 * min(0.99, p * 1.3)))
        K2 = min(N - N1, max(0, K - K1))
        n1, n2 = max(20, n // 3), max(20, n - n // 3)
        x1 = int(rng.hypergeometric(K1, N1 - K1, n1))
        x2 = int(rng.hypergeometric(K2, N - N1 - K2, n2))
        st = stratified({"a": (N1, n1, x1), "b": (N - N1, n2, x2)})
        hits["stratified"] += st["wilson_effective_n"][0] <= (K1 + K2) / N <= st["wilson_effective_n"][1]
    cover = {k: v / trials for k, v in hits.items()}
    assert all(v >= 0.94 for v in cover.values()), cover


def test_lookup_by_title_isbn_registration_and_file(demo, data):
    root, _ = demo
    r = json.loads(cli("lookup", str(root), "978-0-306-40615-7", "--json"))
    assert r["results"][0]["title"] == "A Field Guide to Northern Mosses" and r["results"][0]["on_the_list"]
    r2 = json.loads(cli("lookup", str(root), "0306406152", "--json"))
    assert r2["results"][0]["work_id"] == r["results"][0]["work_id"]
    r = json.loads(cli("lookup", str(root), "TX 8-850-321", "--json"))
    assert r["results"][0]["title"] == "The Cartographer's Error"
    assert r["results"][0]["classes"] == ["in-corpus", "in-corpus/statutory"]
    r = json.loads(cli("lookup", str(root), "orchard at dusk", "--json"))
    w = r["results"][0]
    assert not w["on_the_list"] and w["why"]["in-corpus"][0]["passed"] is False
    r = json.loads(cli("lookup", str(root), "--file", str(data / "corpus" / "vendor" / "randnum.py"), "--json"))
    assert r["results"][0]["title"] == "python-rsa" and "in-corpus/statutory" not in r["results"][0]["classes"]
    assert r["results"][0]["s412"]["status"] == "unknown" and r["results"][0]["s412"]["undated_sources"]
    assert r["results"][0]["file_match"]["how"] == "identical bytes (sha256)"
    assert r["results"][0]["why"]["in-corpus"][0]["value"] == "True (by content + identifier)"
    out = cli("lookup", str(root), "Белые ночи")
    assert "ON THE LIST" in out
    r = runner.invoke(app, ["lookup", str(root), "978-0-306-40615-8"])
    assert r.exit_code == 2 and "impossible" in r.output


def test_older_case_store_gains_the_new_tables(tmp_path):
    from sqlalchemy import create_engine, inspect

    db = tmp_path / "old" / "store.sqlite"
    case = Case.init(tmp_path / "old")
    case.store.engine.dispose()
    eng = create_engine(f"sqlite:///{db}")
    with eng.begin() as c:
        for t in ("work_details", "work_owners", "registrations", "registration_links", "class_decisions",
                  "sample_items", "samples"):
            c.exec_driver_sql(f"DROP TABLE {t}")
    eng.dispose()
    case = Case.open(tmp_path / "old")
    assert "registrations" in inspect(case.store.engine).get_table_names()


def test_acquired_date_checked(tmp_path, data):
    case = tmp_path / "c"
    cli("init", str(case))
    r = runner.invoke(app, ["corpus", "add", str(case), "lib", str(data / "classes" / "library.jsonl"),
                            "--acquired", "2021-02-30"])
    assert r.exit_code == 2 and "--acquired" in r.output and "Traceback" not in r.output


def test_parquet_corpus_metadata_puts_works_in_corpus_by_identifier(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    case = tmp_path / "c"
    cli("init", str(case))
    (tmp_path / "list.csv").write_text("title,authors,claimant,isbn\nOne Book,\"Doe, Jane\",Jane Doe,0-306-40615-2\n"
                                       "Two Book,Jane Doe,Jane Doe,\nThree Book,Jane Doe,Jane Doe,\n")
    cli("works", "import", str(case), str(tmp_path / "list.csv"))
    pq.write_table(pa.table({"text": ["a b c", "d e f", "g h i"], "book_title": ["x", "Two Book", "Three Book"],
                             "author": ["", "Jane Doe", "John Roe"], "isbn": ["9780306406157", "", ""]}),
                   tmp_path / "lib.parquet")
    cli("corpus", "add", str(case), "lib", str(tmp_path / "lib.parquet"), "--meta-fields", "book_title,author,isbn",
        "--acquired", "2020-05-01")
    f = tmp_path / "c.toml"
    f.write_text('[[class]]\nname = "by-id"\n[class.criteria]\nin_corpus_by_identifier = true\n')
    r = json.loads(cli("classes", str(case), "--file", str(f), "--json"))
    assert r["counts"]["by-id"]["works"] == 2  # by ISBN and by title + author; Three Book has another author
    hit = json.loads(cli("lookup", str(case), "Two Book", "--json"))["results"][0]
    assert hit["in_corpus_by_identifier"][0]["by"].startswith("title 'two book'")
    assert hit["s412"]["infringement_began"] == "2020-05-01"


def test_file_lookup_sees_works_added_after_its_first_call(tmp_path, data):
    """The work files are prepared once per process and refreshed by id and sha256 on every lookup, and a
    reworked copy is still found by fingerprints among the candidates that share one."""
    from ascertain.classes.lookup import lookup

    root = tmp_path / "c"
    cli("init", str(root))
    randnum, parallel = data / "works" / "python-rsa" / "randnum.py", data / "works" / "python-rsa" / "parallel.py"
    cli("works", "add", str(root), "--claimant", "A", str(randnum))
    edited = tmp_path / "edited.py"
    edited.write_text("# reformatted copy\n" + parallel.read_text().replace("    ", "  "))
    case = Case.open(root)
    assert lookup(case, None, str(edited))["matches"] == 0
    cli("works", "add", str(root), "--claimant", "B", str(parallel))
    r = lookup(Case.open(root), None, str(edited))
    assert r["matches"] == 1 and r["results"][0]["file_match"]["how"] == "fingerprints (compare)"
    assert lookup(Case.open(root), None, str(randnum))["results"][0]["file_match"]["how"] == "identical bytes (sha256)"


def _member_rows(path) -> dict[str, dict]:
    import csv

    with open(path, encoding="utf-8") as fh:
        return {x["title"]: x for x in csv.DictReader(fh)}


def test_tiers_and_disputes_change_membership_and_are_audited(demo, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(demo[0], root)
    f = tmp_path / "c.toml"
    f.write_text('[[class]]\nname = "in-corpus"\n[class.criteria]\nin_corpus = true\n'
                 '[[class]]\nname = "by-text"\nrequire_tier = "text"\n[class.criteria]\nin_corpus = true\n')
    r = json.loads(cli("classes", str(root), "--file", str(f), "--json"))
    tiers = r["tiers"]["in-corpus"]
    assert tiers.get("metadata", 0) >= 1 and sum(tiers.values()) == r["counts"]["in-corpus"]["works"]
    assert r["counts"]["by-text"]["works"] == tiers.get("text", 0) < r["counts"]["in-corpus"]["works"]
    rows = _member_rows(root / "reports" / "classes" / "in-corpus.csv")
    tidal, mosses = rows["Notes from the Tidal Flats"], rows["A Field Guide to Northern Mosses"]
    assert tidal["tier"] == "metadata" and json.loads(tidal["tier_detail"])["in_corpus"]["fields"]
    assert mosses["tier"] == "identifier" and rows["python-rsa"]["tier"] == "text"
    assert "infringement began 2021-06-01 (source library)" in mosses["s412_dates"]
    opened = json.loads(cli("dispute", str(root), "open", "--class", "in-corpus", "--work", tidal["work_id"],
                            "--reason", "the corpus record is another book of the same title",
                            "--evidence", "library.jsonl record: other author, other ISBN", "--by", "acme-counsel",
                            "--json"))
    other = json.loads(cli("dispute", str(root), "open", "--class", "in-corpus", "--work", mosses["work_id"],
                           "--reason", "not this edition", "--evidence", "-", "--json"))
    r = runner.invoke(app, ["dispute", str(root), "open", "--class", "in-corpus", "--work", mosses["work_id"],
                            "--reason", "again"])
    assert r.exit_code != 0 and "already has an open dispute" in r.output
    cli("classes", str(root), "--file", str(f))
    rows = _member_rows(root / "reports" / "classes" / "in-corpus.csv")
    assert rows["Notes from the Tidal Flats"]["dispute"].startswith(f"open #{opened['dispute']}")
    cli("dispute", str(root), "resolve", str(opened["dispute"]), "--outcome", "upheld", "--resolution",
        "different author and ISBN", "--by", "master")
    cli("dispute", str(root), "resolve", str(other["dispute"]), "--outcome", "rejected", "--resolution",
        "the ISBN is this edition's", "--by", "master")
    r = json.loads(cli("classes", str(root), "--file", str(f), "--json"))
    assert r["disputes"]["in-corpus"] == {"rejected": 1, "upheld": 1}
    rows = _member_rows(root / "reports" / "classes" / "in-corpus.csv")
    assert "Notes from the Tidal Flats" not in rows
    assert rows["A Field Guide to Northern Mosses"]["tier"] == "reviewer"
    assert rows["A Field Guide to Northern Mosses"]["dispute"].startswith(f"rejected #{other['dispute']} by master")
    listed = json.loads(cli("dispute", str(root), "list", "--json"))
    assert [x["status"] for x in listed] == ["upheld", "rejected"]
    case = Case.open(root)
    with case.store.engine.connect() as c:
        actions = [r.action for r in c.execute(select(schema.audit_log.c.action).where(
            schema.audit_log.c.action.like("dispute%")))]
    assert actions == ["dispute open", "dispute open", "dispute resolve", "dispute resolve"]


def test_protocol_blind_double_labels_kappa_adjudication_estimate(demo, tmp_path):
    import csv
    import shutil

    from ascertain.classes.estimates import hypergeometric, sampling_section
    from ascertain.classes.protocol import sample_size_for

    assert sample_size_for("de-minimis", 10_000, 0.05, 0.95, 0.5)["sample_size"] == 370
    assert sample_size_for("none", 100_000, 0.05, 0.95, 0.5)["sample_size"] == 59  # ln(0.05)/ln(0.95) = 58.4
    h = hypergeometric(0, 59, 100_000)
    assert h["count_interval"][0] == 0 and h["count_upper_one_sided"] <= 5_000
    assert hypergeometric(5, 10, 10)["count_interval"] == [5, 5]  # the whole class sampled: no uncertainty

    root = tmp_path / "copy"
    shutil.copytree(demo[0], root)
    case = Case.open(root)
    p = json.loads(cli("protocol", str(root), "create", "--class", "in-corpus", "--standard", "de-minimis",
                       "--threshold", "0.1", "--margin", "0.3", "--seed", "5", "--reviewers", "ana,ben", "--json"))
    n = p["sample_size"]  # 7 of the class's 17 members (10 text works, 7 drawings)
    assert n == 7 and len(p["sha256"]) == 64 and p["frame_sha256"]
    d = json.loads(cli("protocol", str(root), "draw", str(p["protocol_id"]), "--json"))
    r = runner.invoke(app, ["protocol", str(root), "draw", str(p["protocol_id"])])
    assert r.exit_code != 0 and "was drawn already" in r.output
    sheets = {k: Path(v) for k, v in d["sheets"].items()}
    truth = {x["title"]: x for x in json.loads(
        (Path(__file__).parents[1] / "src/ascertain/demo_data/classes/planted.json").read_text())}
    disputed_work = None
    for name, path in sheets.items():
        with open(path, encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert {x["reviewer"] for x in rows} == {name} and not any(x["copied"] for x in rows)  # blind
        for i, x in enumerate(rows):
            t = truth.get(x["title"], {"copied": True, "in_corpus": True})
            copied = t["copied"] if not (name == "ben" and i == 0) else not t["copied"]
            x.update(copied="yes" if copied else "no", in_corpus="yes" if t["in_corpus"] or copied else "no")
            disputed_work = disputed_work or int(rows[0]["work_id"])
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    r = runner.invoke(app, ["labels", "import", str(root), str(sheets["ana"]), "--reviewer", "ben"])
    assert r.exit_code != 0 and "holds labels of ana" in r.output
    for name, path in sheets.items():
        cli("labels", "import", str(root), str(path), "--reviewer", name)
    ag = json.loads(cli("labels", "agreement", str(root), "--sample", str(d["sample_id"]), "--json"))
    assert ag["labelled_by_both"] == n and len(ag["disagreements"]) == 1 and ag["unresolved"] == 1
    est = json.loads(cli("estimate", str(root), "--class", "in-corpus", "--sample", str(d["sample_id"]), "--json"))
    assert est["labelled"] == n - 1 and est["labels"]["disagreements_unresolved"] == 1
    cli("labels", "adjudicate", str(root), "--sample", str(d["sample_id"]), "--work", str(disputed_work),
        "--copied", "yes", "--in-corpus", "yes", "--reason", "the copy is in the library record's text")
    sec = sampling_section(case, "in-corpus")
    assert sec["protocol"]["sha256"] == p["sha256"] and sec["draw"]["seed"] == 5
    assert sec["labelling"]["adjudicated_by_master"] == 1 and sec["labelling"]["agreed"] == n - 1
    assert set(sec["labelling"]["label_sheets"]) == {"ana", "ben"}
    assert "kappa" in sec["labelling"]["kappa_uninjured"]
    e = sec["estimate"]
    fp = e["uninjured"]["finite_population"]
    assert e["labelled"] == n and fp["count_interval"][0] <= fp["count_estimate"] <= fp["count_interval"][1]
    assert e["injured_members"]["estimate"] == 17 - fp["count_estimate"]
    assert e["standard"]["standard"] == "de-minimis" and "threshold" in e["standard"]["statement"]
    json.dumps(sec)  # the report can store it as it is
    from ascertain.report.build import build_report
    from ascertain.report.judge import sampling

    shown = next(x for x in sampling(case) if x["id"] == d["sample_id"])
    assert shown["protocol"]["sha256"] == p["sha256"] and set(shown["protocol"]["label_hashes"]) == {"ana", "ben"}
    assert all(x["copied"] in ("yes", "no") for x in shown["draws"])  # the adjudicated labels, not "–"
    page = (Path(build_report(case, tmp_path / "rep")["out"]) / "report.html").read_text(encoding="utf-8")
    assert f"Drawn under protocol {p['protocol_id']}" in page and p["sha256"][:16] in page and "kappa" in page
    p2 = json.loads(cli("protocol", str(root), "create", "--class", "in-corpus", "--standard", "none", "--margin",
                        "0.3", "--seed", "6", "--reviewers", "ana,ben", "--json"))
    f = tmp_path / "narrower.toml"
    f.write_text('[[class]]\nname = "in-corpus"\nrequire_tier = "text"\n[class.criteria]\nin_corpus = true\n')
    cli("classes", str(root), "--file", str(f))
    r = runner.invoke(app, ["protocol", str(root), "draw", str(p2["protocol_id"])])
    assert r.exit_code != 0 and "has other members than when the protocol was fixed" in r.output


def test_sheets_are_csv_injection_safe(tmp_path):
    import csv

    from ascertain.classes.sheets import unsafe_cell, write_csv

    write_csv(tmp_path / "s.csv", ["title", "n"], [{"title": '=HYPERLINK("http://x","y")', "n": -3},
                                                   {"title": "@SUM(A1)", "n": 1}, {"title": "plain", "n": 2}])
    with open(tmp_path / "s.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["title"] for r in rows] == ['\'=HYPERLINK("http://x","y")', "'@SUM(A1)", "plain"]
    assert rows[0]["n"] == "-3" and unsafe_cell(rows[1]["title"]) == "@SUM(A1)"
