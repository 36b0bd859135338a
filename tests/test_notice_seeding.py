"""A copyright page shared by many corpus books never makes a pair for a work whose copy of it is a notice only,
whatever other works are matched in the same run (issue 28 item 6: 97 % of the evidence rows of the books
benchmark were such pairs). benchmarks/books_notice_seeding.py builds the case: eight books share a page;
work a carries it, work b an edited page the notice rules do not recognise (so b's own text)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ascertain.case import Case
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.works import add_work

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from books_notice_seeding import NOTICE, book  # noqa: E402


def _rows(root: Path, works: dict[str, str]) -> dict[str, int]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "books.jsonl", "w") as fh:
        for i in range(8):
            fh.write(json.dumps({"path": f"b{i}.txt", "text": book(i)}) + "\n")
    case = Case.init(root / "case")
    add_source(case, "books", "corpus", [str(root / "books.jsonl")], ReadOptions())
    for name, text in works.items():
        (root / name).write_text(text)
        add_work(case, "c", str(root / name), title=name)
    run_match(case, MatchOptions(max_seed_df=2))  # the page's fingerprints are frequent (in 8 books)
    rows = dict.fromkeys(works, 0)
    for e in json.loads((case.root / "reports" / "evidence.json").read_text())["evidence"]:
        rows[Path(e["work_file"]).name] += 1
    return rows


def test_a_shared_notice_makes_no_pair_even_beside_a_work_whose_own_text_it_is(tmp_path):
    edited = NOTICE.replace("Copyright", "Copyleft").replace("publication", "volume")
    assert _rows(tmp_path / "one", {"a.txt": book(100)}) == {"a.txt": 0}
    assert _rows(tmp_path / "two", {"a.txt": book(100), "b.txt": book(101, edited)})["a.txt"] == 0


def test_a_copied_book_is_still_found_with_its_notice(tmp_path):
    rows = _rows(tmp_path, {"a.txt": book(3), "b.txt": book(101)})  # a is corpus book b3 itself
    assert rows["a.txt"] >= 1 and rows["b.txt"] == 0
