"""A report nobody can alter unseen: each attack a hostile tester made (every one of which `verify` once passed
as verified) performed here and caught, the expert's signature, and `report`/`match` killed with SIGKILL."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import ascertain
from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.report import signing
from ascertain.report.build import build_report
from ascertain.report.verify import verify
from ascertain.sources import add_source
from ascertain.store import audit_chain
from ascertain.store.audit_chain import entry_hash
from ascertain.works import import_manifest

SRC = str(Path(ascertain.__file__).parents[1])


@pytest.fixture(scope="module")
def signed(tmp_path_factory, data):
    """One work (python-rsa, whose stripped copy is in the corpus) against the demo corpus and outputs, and
    its report signed by an expert key kept outside the case."""
    root = tmp_path_factory.mktemp("trust")
    src = root / "data"
    shutil.copytree(data / "corpus", src / "corpus")
    shutil.copytree(data / "works" / "python-rsa", src / "works" / "python-rsa")
    shutil.copy(data / "outputs.jsonl", src / "outputs.jsonl")
    (src / "works.csv").write_text("claimant,title,path\nSybren A. Stüvel,python-rsa,works/python-rsa\n")
    case = Case.init(root / "case")
    import_manifest(case, str(src / "works.csv"))
    add_source(case, "corpus", "corpus", [str(src / "corpus")], ReadOptions())
    add_source(case, "outputs", "outputs", [str(src / "outputs.jsonl")], ReadOptions(text_field="completion"))
    run_match(case, MatchOptions())
    (root / "keys").mkdir()
    key = signing.new_expert_key(root / "keys" / "expert.key", "Dr. Ada Expert")
    out = Path(build_report(case, inline_exhibits=0, sign_key=root / "keys" / "expert.key")["out"])
    case.store.engine.dispose()
    return {"case": case.root, "out": out, "key": root / "keys" / "expert.key",
            "pub": Path(key["public_key_file"]), "fingerprint": key["fingerprint"], "data": src}


@pytest.fixture
def fresh(signed, tmp_path):
    """A private copy of the case and its report (the inputs stay shared: a test that changes one restores it)."""
    shutil.copytree(signed["case"], tmp_path / "case")
    return {**signed, "case": tmp_path / "case", "out": tmp_path / "case" / "reports" / "report"}


def kinds(r: dict) -> set[str]:
    return {d["kind"] for d in r["differences"]}


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _recompute_hashes(out: Path, **extra) -> None:
    """What an attacker who can write the folder does after changing a file: the manifest's hashes redone."""
    m = json.loads((out / "manifest.json").read_text())
    m["files"] = {name: _sha(out / name) for name in m["files"]}
    m.update(extra)
    (out / "manifest.json").write_text(json.dumps(m, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def test_signed_report_verifies_and_says_who_signed(fresh):
    out = fresh["out"]
    sig = json.loads((out / "signature.json").read_text())
    assert sig["algorithm"] == "Ed25519" and sig["signer"] == "Dr. Ada Expert"
    assert signing.grouped(fresh["fingerprint"]) in (out / "report.html").read_text()
    assert oct((fresh["key"]).stat().st_mode & 0o777) == "0o600"
    r = verify(out, fresh["case"], signer_key=fresh["pub"])
    assert r["verified"], r["differences"]
    assert r["signature"]["valid"] and r["signature"]["signer"] == "Dr. Ada Expert"
    assert any("the key you gave" in c for c in r["checked"])
    assert any("re-indexed from their inputs" in c for c in r["checked"])
    # another expert's key is not this one
    other = signing.new_expert_key(fresh["case"].parent / "other.key", "Someone Else")
    r = verify(out, fresh["case"], fingerprint=other["fingerprint"], rerun=False)
    assert kinds(r) == {"signature"} and "another key" in r["differences"][0]["problem"]
    (out / "signature.json").write_text("{}")
    r = verify(out, fresh["case"], rerun=False)
    assert kinds(r) == {"signature"} and "cannot be read" in r["differences"][0]["problem"]


def test_signing_key_inside_the_case_or_readable_by_others_is_refused(fresh, tmp_path):
    inside = fresh["case"] / "expert.key"
    shutil.copy(fresh["key"], inside)
    with pytest.raises(AscertainError, match="inside the case folder"):
        signing.load_signing_key(inside, fresh["case"])
    loose = tmp_path / "loose.key"
    shutil.copy(fresh["key"], loose)
    loose.chmod(0o644)
    with pytest.raises(AscertainError, match="chmod 600"):
        signing.load_signing_key(loose)
    with pytest.raises(AscertainError, match="never overwritten"):
        signing.new_expert_key(fresh["key"], "Dr. Ada Expert")


def test_changed_figure_with_recomputed_hashes_is_caught(fresh, tmp_path):
    out = fresh["out"]
    html = (out / "report.html").read_text()
    body = html.index("<body")
    m = re.compile(r"\d+\.\d+").search(html, body)
    forged = html[:m.start()] + str(float(m.group()) + 1) + html[m.end():]
    (out / "report.html").write_text(forged)
    _recompute_hashes(out)
    r = verify(out, fresh["case"])
    assert {"signature", "rerun"} <= kinds(r) and "report file" not in kinds(r)
    assert any(d["item"] == "report.html" and d["kind"] == "rerun" for d in r["differences"])
    # with the signature removed too, the re-derived report still differs, and the expert's key is asked for
    (out / "signature.json").unlink()
    r = verify(out, fresh["case"])
    assert kinds(r) == {"rerun"} and [d["item"] for d in r["differences"]] == ["report.html"]
    assert "signature" in kinds(verify(out, fresh["case"], signer_key=fresh["pub"], rerun=False))
    # re-signed by the forger's own key, under the expert's name: the fingerprint gives it away
    (tmp_path / "k").mkdir()
    forger = signing.new_expert_key(tmp_path / "k" / "forger.key", "Dr. Ada Expert")
    m_doc = json.loads((out / "manifest.json").read_text())
    m_doc["signer"] = {"name": "Dr. Ada Expert", "fingerprint": forger["fingerprint"], "algorithm": "Ed25519"}
    (out / "manifest.json").write_text(json.dumps(m_doc))
    (out / "signature.json").write_bytes(signing.sign_manifest(out, signing.load_signing_key(tmp_path / "k" /
                                                                                               "forger.key")))
    r = verify(out, fresh["case"], signer_key=fresh["pub"], rerun=False)
    assert kinds(r) == {"signature"} and "another key" in r["differences"][0]["problem"]


def test_copy_flipped_to_not_copied_in_the_report_evidence_is_caught(fresh):
    out = fresh["out"]
    doc = json.loads((out / "evidence.json").read_bytes())
    flipped = next(e for e in doc["evidence"] if e["copied"])
    flipped["copied"] = flipped["metrics"]["copied"] = False
    (out / "evidence.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) + b"\n")
    (out / "signature.json").unlink()  # an unsigned report: only the re-derivation can catch it
    _recompute_hashes(out, evidence_sha256=_sha(out / "evidence.json"))
    r = verify(out, fresh["case"])
    assert kinds(r) == {"rerun"}
    problems = " ".join(d["problem"] for d in r["differences"] if d["item"] == "evidence.json")
    assert flipped["doc_locator"] in problems and "copied False where the re-run has True" in problems


def test_forged_store_row_then_report_is_caught(fresh):
    case = Case.open(fresh["case"])
    db = sqlite3.connect(fresh["case"] / "store.sqlite")
    # a new row: the report is refused, the store and evidence.json disagree
    db.execute("INSERT INTO evidence (run_id, work_id, work_file_id, source_id, doc_id, doc_locator, copied, coverage,"
               " own_coverage, longest_run_tokens, fragments, identical, byte_identical, rarity_docs, metrics) "
               "SELECT run_id, work_id, work_file_id, source_id, doc_id + 1000, doc_locator || '.forged', copied, "
               "coverage, own_coverage, longest_run_tokens, fragments, identical, byte_identical, rarity_docs, metrics "
               "FROM evidence WHERE copied = 1 LIMIT 1")
    db.commit()
    with pytest.raises(AscertainError, match="disagree") as e:
        build_report(case, inline_exhibits=0, sign_key=fresh["key"])
    assert "ascertain match" in e.value.fix
    db.execute("DELETE FROM evidence WHERE doc_locator LIKE '%.forged'")
    # a changed row: written into a signed report, caught by the re-derivation
    db.execute("UPDATE evidence SET coverage = 0.999, metrics = json_set(metrics, '$.coverage', 0.999) "
               "WHERE id = (SELECT min(id) FROM evidence WHERE copied = 1)")
    db.commit()
    db.close()
    build_report(case, inline_exhibits=0, sign_key=fresh["key"])
    case.store.engine.dispose()
    r = verify(fresh["out"], fresh["case"], signer_key=fresh["pub"])
    assert kinds(r) == {"rerun"}
    items = {d["item"] for d in r["differences"]}
    assert "store evidence_sha256" in items and "exhibits.csv" in items


def test_poisoned_cmi_cache_is_caught(fresh):
    cache = sqlite3.connect(fresh["case"] / "index" / "corpus" / "cache" / "cmi.sqlite")
    rows = {orjson.loads(r)["path"]: (k, orjson.loads(r)) for k, r in cache.execute("SELECT key, result FROM scans")}
    stripped = next(p for p in rows if p.endswith("parallel_nohdr.py"))
    kept = next(p for p in rows if p.endswith("vendor/randnum.py"))  # a copy that kept python-rsa's notice
    cache.execute("UPDATE scans SET result = ? WHERE key = ?",
                  (orjson.dumps({**rows[kept][1], "path": stripped}), rows[stripped][0]))
    cache.commit()
    cache.close()
    case = Case.open(fresh["case"])
    run_match(case, MatchOptions())
    ev = json.loads((fresh["case"] / "reports" / "evidence.json").read_bytes())["evidence"]
    assert next(e for e in ev if e["doc_locator"] == stripped)["metrics"]["cmi"]["status"] == "retained"  # false
    build_report(case, inline_exhibits=0, sign_key=fresh["key"])
    case.store.engine.dispose()
    r = verify(fresh["out"], fresh["case"], signer_key=fresh["pub"])
    assert kinds(r) == {"rerun"}
    problems = " ".join(d["problem"] for d in r["differences"])
    assert "cmi status 'retained' where the re-run has 'removed'" in problems


def test_rewritten_audit_chain_is_caught(fresh):
    db = sqlite3.connect(fresh["case"] / "store.sqlite")
    rows = db.execute("SELECT id, at, action, detail, ok FROM audit_log ORDER BY id").fetchall()
    # entry 2 changed and every hash after it recomputed: the chain reads intact, the signed head does not match
    prev = audit_chain.GENESIS
    for i, at, action, detail, ok in rows:
        d = json.loads(detail)
        if i == 2:
            d["documents"] = d.get("documents", 0) + 1
        h = entry_hash(i, at, action, d, bool(ok), prev)
        db.execute("UPDATE audit_log SET detail = ?, prev_hash = ?, entry_hash = ? WHERE id = ?",
                   (json.dumps(d), prev, h, i))
        prev = h
    db.commit()
    case = Case.open(fresh["case"])
    assert audit_chain.check(case.store.engine)["ok"]  # no secret in the chain: the signature is what holds
    r = verify(fresh["out"], fresh["case"], rerun=False)
    assert kinds(r) == {"audit"} and "rewritten" in r["differences"][0]["problem"]
    # every hash set to NULL: not "written before the chain began"
    db.execute("UPDATE audit_log SET prev_hash = NULL, entry_hash = NULL")
    db.commit()
    db.close()
    chain = audit_chain.check(case.store.engine)
    assert not chain["ok"] and chain["legacy_entries"] == 0 and "began at entry 1" in chain["problems"][0]["problem"]
    assert kinds(verify(fresh["out"], fresh["case"], rerun=False)) == {"audit"}
    case.store.engine.dispose()


def test_corpus_file_changed_or_deleted_after_indexing_is_caught(fresh):
    target = fresh["data"] / "corpus" / "vendor" / "go_lexer_fragment.py"
    backup = target.read_bytes()
    try:
        target.write_bytes(backup.replace(b"e", b"E", 1))  # same size: the folder's listing is unchanged
        r = verify(fresh["out"], fresh["case"], rerun=True)
        assert "input" in kinds(r)
        assert any(d["item"] == str(target) and "changed since it was indexed" in d["problem"]
                   for d in r["differences"])
        target.unlink()
        r = verify(fresh["out"], fresh["case"])
        named = {d["item"]: d["problem"] for d in r["differences"] if d["kind"] == "input"}
        assert "gone from the inputs" in named[str(target)]
        assert "names or sizes" in named[str(fresh["data"] / "corpus")]
    finally:
        target.write_bytes(backup)


# --- killed with SIGKILL ---------------------------------------------------------------------------------

def _killed(code: str) -> None:
    """Run `code` in a new Python process that SIGKILLs itself where the code says; it must die so."""
    p = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": SRC}, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]


KILL = "import os, signal\ndef die(*a, **k):\n    os.kill(os.getpid(), signal.SIGKILL)\n"


def test_killed_report_leaves_the_previous_report_intact(fresh):
    out = fresh["out"]
    before = {p.relative_to(out).as_posix(): _sha(p) for p in out.rglob("*") if p.is_file()}
    # killed while rendering the PDF, after report.html and the exhibits were written
    _killed(KILL + "from pathlib import Path\nfrom ascertain.case import Case\nfrom ascertain.report import build\n"
            f"build._pdf = die\nbuild.build_report(Case.open(Path({str(fresh['case'])!r})), inline_exhibits=0)")
    after = {p.relative_to(out).as_posix(): _sha(p) for p in out.rglob("*") if p.is_file()}
    assert after == before
    left = [p.name for p in out.parent.iterdir() if p.name.startswith(".report.") and p.name != ".report.lock"]
    assert len(left) == 1 and left[0].endswith(".tmp")  # the half-written report, beside the whole one
    assert verify(out, fresh["case"], signer_key=fresh["pub"], rerun=False)["verified"]
    # killed between the two renames: the previous report is at .report.PID.old and none is in place
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    os.replace(out, out.parent / f".report.{int(dead.stdout)}.old")
    case = Case.open(fresh["case"])
    build_report(case, inline_exhibits=0, sign_key=fresh["key"])  # puts it back, cleans up, replaces it
    case.store.engine.dispose()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".report.")] == [".report.lock"]
    assert verify(out, fresh["case"], signer_key=fresh["pub"], rerun=False)["verified"]


def test_killed_report_between_renames_puts_the_previous_one_back(fresh):
    from ascertain.report import folder_swap

    out = fresh["out"]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    old = out.parent / f".report.{int(dead.stdout)}.old"
    os.replace(out, old)
    work = folder_swap.begin(out, "manifest.json")
    assert (out / "manifest.json").is_file() and not old.exists()
    with pytest.raises(AscertainError, match="another `ascertain report` is writing"):
        folder_swap.begin(out, "manifest.json")  # a second writer of the same folder waits its turn
    folder_swap.abandon(work)
    folder_swap.abandon(folder_swap.begin(out, "manifest.json"))  # the lock went with the first writer
    assert verify(out, fresh["case"], signer_key=fresh["pub"], rerun=False)["verified"]


def test_killed_match_leaves_no_temp_file_behind_after_the_next_run(fresh):
    reports = fresh["case"] / "reports"
    evidence = _sha(reports / "evidence.json")
    _killed(KILL + "from pathlib import Path\nfrom ascertain.case import Case\nfrom ascertain.match import run\n"
            "run.EvidenceOut.commit = die\n"
            f"run.run_match(Case.open(Path({str(fresh['case'])!r})), run.MatchOptions())")
    assert [p.name for p in reports.iterdir() if p.name.startswith(".evidence.json.")]  # what kill -9 leaves
    assert _sha(reports / "evidence.json") == evidence
    run_match(Case.open(fresh["case"]), MatchOptions())
    assert not [p.name for p in reports.iterdir() if p.name.startswith(".evidence.json.")]
    assert _sha(reports / "evidence.json") == evidence


def test_match_killed_between_evidence_file_and_store_blocks_the_report_until_mended(fresh):
    # killed after evidence.json was replaced, before the store's rows: a run with other thresholds
    _killed(KILL + "from pathlib import Path\nfrom ascertain.case import Case\nfrom ascertain.match import run\n"
            "from ascertain.match.measure import Thresholds\n"
            "commit = run.EvidenceOut.commit\n"
            "def commit_then_die(self, manifest):\n    commit(self, manifest)\n    die()\n"
            "run.EvidenceOut.commit = commit_then_die\n"
            f"run.run_match(Case.open(Path({str(fresh['case'])!r})), "
            "run.MatchOptions(thresholds=Thresholds(min_copy_tokens=10), allow_empty=True))")
    case = Case.open(fresh["case"])
    with pytest.raises(AscertainError, match="disagree") as e:
        build_report(case, inline_exhibits=0)
    assert "ascertain match" in e.value.fix and "rewrites both" in e.value.fix
    run_match(case, MatchOptions())
    assert build_report(case, inline_exhibits=0, sign_key=fresh["key"])["exhibits"] >= 1
    case.store.engine.dispose()


def test_cli_expert_key_and_verify_with_the_signers_key(fresh, tmp_path):
    from typer.testing import CliRunner

    from ascertain.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["key", "expert", "new", str(tmp_path / "mine.key"), "--name", "Dr. Bo Neutral"])
    assert r.exit_code == 0 and "fingerprint:" in r.stdout and (tmp_path / "mine.key.pub").is_file()
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    r = runner.invoke(app, ["key", "expert", "show", str(fresh["pub"])])
    assert r.exit_code == 0 and "Dr. Ada Expert" in r.stdout
    assert signing.grouped(fresh["fingerprint"], "  ").splitlines()[0] in r.stdout
    r = runner.invoke(app, ["verify", str(fresh["out"]), "--case", str(fresh["case"]), "--no-rerun",
                            "--signer-key", str(fresh["pub"])])
    assert r.exit_code == 0 and "signed by Dr. Ada Expert" in r.stdout and r.stdout.rstrip().endswith("verified")
    r = runner.invoke(app, ["verify", str(fresh["out"]), "--case", str(fresh["case"]), "--no-rerun",
                            "--signer-key", str(tmp_path / "mine.key.pub")])
    assert r.exit_code == 1 and "DIFFERS signature" in r.stdout and "NOT verified" in r.stdout


def test_forged_work_cmi_in_the_store_is_caught(fresh):
    """The work's own notice deleted from the store's scan of it: the stripped copy would read `never present`
    instead of `removed`. verify re-reads and re-scans the work files."""
    db = sqlite3.connect(fresh["case"] / "store.sqlite")
    fid, raw = db.execute("SELECT c.work_file_id, c.cmi FROM work_cmi c JOIN work_files f ON f.id = c.work_file_id "
                          "WHERE f.path LIKE '%parallel.py'").fetchone()
    scan = json.loads(raw)
    assert scan["copyrights"]
    db.execute("UPDATE work_cmi SET cmi = ? WHERE work_file_id = ?",
               (json.dumps({**scan, "copyrights": [], "licenses": []}), fid))
    db.commit()
    db.close()
    case = Case.open(fresh["case"])
    run_match(case, MatchOptions())
    build_report(case, inline_exhibits=0, sign_key=fresh["key"])
    case.store.engine.dispose()
    r = verify(fresh["out"], fresh["case"], signer_key=fresh["pub"])
    assert kinds(r) == {"store", "rerun"}
    assert any(d["item"].startswith("work CMI of") and d["item"].endswith("parallel.py") for d in r["differences"])


def test_class_and_probe_rows_changed_after_the_report_are_caught(fresh):
    """The class, sampling and probing sections are read from the store, not re-derived: their rows are hashed
    in the signed manifest, so a row slipped in after the report is seen."""
    db = sqlite3.connect(fresh["case"] / "store.sqlite")
    db.execute("INSERT INTO disputes (class_name, work_id, opened_by, role, reason, evidence, status, resolution, "
               "resolved_by, opened_at, resolved_at) SELECT 'all', min(id), 'x', 'master', 'r', 'e', 'upheld', 'out',"
               " 'x', '2026-01-01', '2026-01-02' FROM works")
    db.commit()
    db.close()
    r = verify(fresh["out"], fresh["case"], signer_key=fresh["pub"], rerun=False)
    assert kinds(r) == {"store"} and [d["item"] for d in r["differences"]] == ["disputes_sha256"]
