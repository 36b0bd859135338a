"""§412 eligibility against outcomes worked out by hand from the statute, date by date.

17 U.S.C. §412 bars statutory damages and fees for (1) infringement of an unpublished work begun before the
effective date of registration, and (2) infringement begun after first publication and before the effective
date of registration, unless registration is made within three months after first publication. Each case
below gives the dates a record may hold (first publication, the registration's effective date, the day
infringement began; a date may be a year or a month only) and the outcome a reader of the statute reaches
by hand, with the clause that decides it. Where the dates given cannot decide (a coarse date straddling a
limit), the expected outcome is "unknown". The outcomes were written from the statute, not from the code;
`evaluate` measures how often `classes/eligibility.decide` reaches them.
"""

from __future__ import annotations

from ascertain.classes.eligibility import decide
from ascertain.classes.facts import WorkFacts

# (name, publication date, effective date of registration or None, infringement began, expected, why)
CASES: list[tuple[str, str | None, str | None, str, str, str]] = [
    ("registered long before", "2015-03-01", "2015-04-10", "2020-01-01", "eligible", "registered first"),
    ("registered the day infringement began", "2019-01-01", "2020-01-01", "2020-01-01", "eligible",
     "effective date not after the start"),
    ("registered the day after", "2019-01-01", "2020-01-02", "2020-01-01", "not eligible", "§412(2), grace over"),
    ("no publication date, registered before", None, "2018-05-05", "2019-02-02", "eligible", "registered first"),
    ("no publication date, registered after", None, "2020-05-05", "2019-02-02", "unknown",
     "no publication date in the record: published or not is not known, so §412(1) vs (2) cannot be told"),
    ("infringed before publication, registered in grace", "2020-03-01", "2020-04-15", "2020-02-01",
     "not eligible", "§412(1): begun before publication and before registration; the grace helps only (2)"),
    ("infringed after publication, registered in grace", "2020-03-01", "2020-05-20", "2020-04-01", "eligible",
     "§412(2) exception: registered within three months after first publication"),
    ("registered on the last day of grace", "2020-03-01", "2020-06-01", "2020-04-01", "eligible",
     "three months after 1 March is 1 June"),
    ("registered a day after grace", "2020-03-01", "2020-06-02", "2020-04-01", "not eligible", "§412(2)"),
    ("grace from the 31st", "2020-01-31", "2020-04-30", "2020-02-15", "eligible",
     "three calendar months after 31 January end on 30 April"),
    ("a day past grace from the 31st", "2020-01-31", "2020-05-01", "2020-02-15", "not eligible", "§412(2)"),
    ("leap-year February", "2019-11-30", "2020-02-29", "2020-01-10", "eligible", "grace ends 29 February 2020"),
    ("registered years after publication", "2010-06-01", "2016-01-01", "2014-01-01", "not eligible", "§412(2)"),
    ("infringed before publication, registered years later", "2012-01-01", "2016-01-01", "2011-06-01",
     "not eligible", "§412(1)"),
    ("no registration", "2012-01-01", None, "2014-01-01", "not eligible",
     "no registration: §411(a) and §412 both bar"),
    ("year-only publication, registered long before infringement", "2015", "2016-02-01", "2020-01-01",
     "eligible", "registered first"),
    ("year-only publication, infringement mid-year", "2020", "2021-01-15", "2020-06-01", "not eligible",
     "published by 1 June: begun after publication, grace over by 1 September 2020, §412(2); published later: "
     "begun before publication and registration, §412(1) — not eligible either way"),
    ("year-only publication, registration beyond any grace", "2018", "2020-01-01", "2019-06-01",
     "not eligible", "publication in 2018 at the latest, infringement after it, registration more than three "
     "months after any day of 2018"),
    ("month-only infringement inside grace", "2020-03-01", "2020-05-20", "2020-04", "eligible",
     "April 2020 is after publication and registration is inside grace"),
    ("month-only infringement straddling registration", "2010-01-01", "2020-04-15", "2020-04", "unknown",
     "begun 1-14 April: before registration, years after publication, §412(2); begun 15-30 April: on or after "
     "the effective date, eligible — the month cannot decide"),
    ("registered before publication", "2020-06-01", "2020-05-01", "2020-07-01", "eligible", "registered first"),
    ("infringed the day before publication", "2020-06-01", "2020-08-01", "2020-05-31", "not eligible",
     "§412(1): begun while unpublished, before registration"),
    ("no publication date, registered the day infringement began", None, "2020-01-01", "2020-01-01", "eligible",
     "effective date not after the start"),
]


def facts(pub: str | None, eff: str | None, began: str) -> WorkFacts:
    regs = [{"number": "TX0000000001", "effective_date": eff, "publication_date": None}] if eff else []
    return WorkFacts(work_id=1, title="a work", authors=[], isbns=[], publication_date=pub, language=None,
                     work_type=None, owners=[], first_copy_at={"corpus": began}, registrations=regs)


def evaluate() -> dict:
    rows = []
    for name, pub, eff, began, want, why in CASES:
        e = decide(facts(pub, eff, began))
        rows.append({"case": name, "publication": pub, "registered": eff, "began": began, "expected": want,
                     "decided": e.status, "why": why, "reason": e.reason})
    by = {}
    for want in ("eligible", "not eligible", "unknown"):
        sub = [r for r in rows if r["expected"] == want]
        by[want] = {"n": len(sub), "agree": sum(r["decided"] == want for r in sub)}
    return {"cases": len(rows), "agree": sum(r["decided"] == r["expected"] for r in rows), "by_expected": by,
            "disagreements": [r for r in rows if r["decided"] != r["expected"]]}


def markdown(r: dict, command: str) -> str:
    lines = ["## §412 eligibility against outcomes worked out from the statute", "",
             f"Command: `{command}`", "",
             f"{r['cases']} cases of dates (first publication, effective date of registration, start of "
             "infringement; some dates a year or month only), each with the outcome a reader of 17 U.S.C. §412 "
             "reaches by hand (`validation/s412.py` gives each case and the clause that decides it). The "
             "outcomes were written from the statute, not from the code. Whether a work is published, the day "
             "infringement began and which registration counts are for the court; this measures only the "
             "application of the rule to the dates in the record.", "",
             "| expected | cases | decided alike |", "|---|---|---|"]
    for k, v in r["by_expected"].items():
        lines.append(f"| {k} | {v['n']} | {v['agree']} |")
    lines += ["", f"Agreement: **{r['agree']} of {r['cases']}**."]
    if r["disagreements"]:
        lines += ["", "| case | expected | decided | tool's reason |", "|---|---|---|---|"]
        lines += [f"| {d['case']} | {d['expected']} | {d['decided']} | {d['reason']} |" for d in r["disagreements"]]
    return "\n".join(lines) + "\n"
