"""The notice-seeding fault of books_scale.py, in small (issue 28 item 6; reported for index/ and match/).

    python3 benchmarks/books_notice_seeding.py DIR

Eight corpus books share one copyright page; work a carries the same page, work b an edited one ("Copyleft",
"volume": the notice rules no longer recognise it, so its words are b's own text). With `max_seed_df=2` the
page's fingerprints are frequent. Matched alone, a has no evidence row (the frequent fingerprints lie wholly
in its notices: left out). Matched with b, a has a `not_copied` row for each of the eight books, whose every
span is the notice: `register_seeds` (index/corpus_reader.py) decides "touches own text" over the union of
the run's works, so b's own occurrence of the notice makes it seed for a too. Prints the rows per work of
both runs; the fault is fixed when both print no row for a.
"""

from __future__ import annotations

import json
import random
import string
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ascertain.case import Case  # noqa: E402
from ascertain.match.run import MatchOptions, run_match  # noqa: E402
from ascertain.readers import ReadOptions  # noqa: E402
from ascertain.sources import add_source  # noqa: E402
from ascertain.works import add_work  # noqa: E402

NOTICE = ("Copyright \u00a9 {y} by {a}. All rights reserved.\n\nNo part of this publication may be reproduced, "
          "stored in a retrieval system, or transmitted in any form or by any means, electronic, mechanical, "
          "photocopying, recording, or otherwise, without the prior written permission of the publisher.\n\n")


def prose(seed: int, n: int = 3000) -> str:
    r = random.Random(seed)
    return " ".join("".join(r.choice(string.ascii_lowercase) for _ in range(r.randint(2, 8)))
                    + ("." if r.random() < 0.08 else "") for _ in range(n))


def book(i: int, notice: str = NOTICE) -> str:
    return f"Title {i}\n\nby Author{i}\n\n" + notice.format(y=1990, a=f"Author{i}") + "Chapter 1\n\n" + prose(i)


def main(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "books.jsonl", "w") as fh:
        for i in range(8):
            fh.write(json.dumps({"path": f"b{i}.txt", "text": book(i)}) + "\n")
    (root / "a.txt").write_text(book(100))
    (root / "b.txt").write_text(book(101, NOTICE.replace("Copyright", "Copyleft").replace("publication", "volume")))
    for works in (["a.txt"], ["a.txt", "b.txt"]):
        case_dir = root / f"case-{len(works)}"
        case = Case.init(case_dir)
        add_source(case, "books", "corpus", [str(root / "books.jsonl")], ReadOptions())
        for w in works:
            add_work(case, "c", str(root / w), title=w)
        run_match(case, MatchOptions(max_seed_df=2))
        rows: dict[str, int] = dict.fromkeys(works, 0)
        for e in json.loads((case_dir / "reports" / "evidence.json").read_text())["evidence"]:
            rows[Path(e["work_file"]).name] += 1
        print(f"works {', '.join(works)}: evidence rows per work {rows}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
