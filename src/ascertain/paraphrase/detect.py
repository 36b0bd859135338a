"""Which passages of a work reappear, reworded, in a copy: cosine similarity of sentence embeddings.

Each passage of the work is compared with every window of one to three consecutive sentences of the copy;
its best window is reported when the similarity reaches the threshold. The threshold and its measured
recall and false-positive rate come from `ascertain validate` (labelled paraphrases of real prose).
"""

from __future__ import annotations

from ascertain.paraphrase.model import describe, embed
from ascertain.paraphrase.passages import passages, windows

THRESHOLD = 0.65  # measured: see docs/validation.md, "Prose paraphrase"


def paraphrased_passages(work_text: str, copy_text: str, threshold: float = THRESHOLD) -> dict:
    wp, cw = passages(work_text), windows(copy_text)
    found = []
    if wp and cw:
        sim = embed([p.text for p in wp]) @ embed([w.text for w in cw]).T
        for i, p in enumerate(wp):
            j = int(sim[i].argmax())
            if sim[i, j] >= threshold:
                found.append({"original_lines": [p.start_line, p.end_line],
                              "copy_lines": [cw[j].start_line, cw[j].end_line],
                              "similarity": round(float(sim[i, j]), 4)})
    return {"signal": "paraphrase (sentence embeddings; not a verbatim measure)", **describe(),
            "threshold": threshold, "work_passages": len(wp), "passages_found": len(found),
            "share_of_work_passages": round(len(found) / len(wp), 4) if wp else 0.0, "passages": found}
