"""The keyed exchange's cost: export and import time, and package size, per MB of corpus.

    python3 benchmarks/exchange.py                      # the demo corpus
    python3 benchmarks/corpus.py benchmarks/.data/corpus-50.jsonl 50 benchmarks/.data/holdout-50
    python3 benchmarks/exchange.py --corpus benchmarks/.data/corpus-50.jsonl

Steps, each timed (wall and CPU seconds of this process): the defendant's keyed, text-less `corpus add`, its
`corpus export`, the master's `corpus import` (every member's SHA-256, the key check, the column-by-column
text-less check), and the defendant's `corpus produce` of a request for 10 documents spread evenly over the
corpus, the last one included (so the inputs are read to their end: the worst case). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from ascertain.case import Case
from ascertain.demo import demo_data
from ascertain.exchange.files import dump, write_new
from ascertain.exchange.keys import new_key
from ascertain.exchange.package import export_source, import_package
from ascertain.exchange.produce import produce
from ascertain.exchange.request import FORMAT, VERSION, request_mac
from ascertain.fingerprint.keyed import key_check
from ascertain.index.lookup import find_document, source_index
from ascertain.readers import ReadOptions
from ascertain.report.manifest import sha256_file
from ascertain.sources import add_source


def timed(fn, *args, **kwargs):
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, round(time.perf_counter() - w0, 3), round(time.process_time() - c0, 3)


def corpus_bytes(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def spread_request(case: Case, key: bytes, n_docs: int, count: int = 10) -> dict:
    """A request for `count` documents spread evenly, the last included, as `corpus request` writes one."""
    index_dir, _ = source_index(case, "crawl")
    docs = []
    for doc in sorted({round(i * (n_docs - 1) / (count - 1)) for i in range(count)}):
        row = find_document(case, "crawl", str(doc))
        docs.append({"doc_id": doc, "locator": row["locator"], "sha256": row["sha256"], "works": []})
    body = {"format": FORMAT, "version": VERSION, "source": "crawl", "key_check": key_check(key),
            "index_manifest_sha256": sha256_file(index_dir / "manifest.json"), "documents": docs}
    return {**body, "mac": request_mac(key, body)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=demo_data() / "corpus", help="file or folder (default: demo)")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    a = ap.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="exchange-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        key = work / "case.key"
        new_key(key)
        defendant = Case.init(work / "defendant")
        added, add_w, add_c = timed(add_source, defendant, "crawl", "corpus", [str(a.corpus)], ReadOptions(),
                                    str(key), False)
        exported, exp_w, exp_c = timed(export_source, defendant, "crawl", work / "crawl.tar")
        master = Case.init(work / "master")
        _, imp_w, imp_c = timed(import_package, master, work / "crawl.tar", str(key))
        request = work / "request.json"
        write_new(request, dump(spread_request(defendant, key.read_bytes(), added["documents"])))
        produced, prod_w, prod_c = timed(produce, defendant, "crawl", request, work / "production", [str(a.corpus)],
                                         str(key))
        mb = corpus_bytes(a.corpus) / 1e6
        print(json.dumps({
            "corpus": str(a.corpus), "corpus_mb": round(mb, 3), "documents": added["documents"],
            "fingerprints": added["fingerprints"], "package_bytes": exported["bytes"],
            "package_mb_per_corpus_mb": round(exported["bytes"] / 1e6 / mb, 4),
            "index_add_s": {"wall": add_w, "cpu": add_c},
            "export_s": {"wall": exp_w, "cpu": exp_c, "cpu_per_mb": round(exp_c / mb, 4)},
            "import_s": {"wall": imp_w, "cpu": imp_c, "cpu_per_mb": round(imp_c / mb, 4)},
            "produce_10_s": {"wall": prod_w, "cpu": prod_c, "documents": produced["documents"]},
        }))
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
