"""§412 eligibility for statutory damages and fees, and the §411(a) registration requirement, per work.

17 U.S.C. §412: no statutory damages or attorney's fees for (1) infringement of an unpublished work begun
before the effective date of its registration, or (2) infringement begun after first publication and before
the effective date of registration, unless the work was registered within three months after first
publication. §411(a): a United States work must be registered (or refused) before suit.
§410(c): a registration made before or within five years after first publication is prima facie evidence.

The tool applies these rules to the dates in the record and says which dates it used; whether a work is a
"United States work", the date a court finds infringement began, and ownership are for the court.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from ascertain.classes.facts import WorkFacts
from ascertain.text.bibliographic import add_months, date_range

GRACE_MONTHS = 3


@dataclass
class Eligibility:
    status: str  # eligible | not eligible | unknown
    reason: str
    registration: str | None = None
    effective_date: str | None = None
    publication_date: str | None = None
    infringement_began: str | None = None
    infringement_source: str | None = None  # which source or setting gave the date
    grace_ends: str | None = None
    prima_facie_410c: bool | None = None
    publication_source: str | None = None  # where the publication date came from
    registration_source: str | None = None  # which record gave the effective date (a group: the listed work)
    undated_sources: list[str] = field(default_factory=list)  # sources with a copy and no date

    def as_dict(self) -> dict:
        return asdict(self)


def infringement_start(f: WorkFacts, setting: str | None) -> tuple[str | None, str | None]:
    """The date infringement began: a case-wide date from the class file if given, else the earliest of the
    sources' acquisition dates (corpora) and first output timestamps (outputs) where the work was copied."""
    if setting and setting not in ("auto",):
        return setting, "class file setting infringement_began"
    if not f.first_copy_at:
        return None, None
    src, when = min(f.first_copy_at.items(), key=lambda kv: (kv[1], kv[0]))
    return when[:10], f"source {src}"


def _publication(f: WorkFacts, reg: dict | None) -> tuple[str | None, str | None]:
    """The date of first publication and where it came from: the works list, then the work's own entry in a
    group registration's contents, then the registration record."""
    if f.publication_date:
        return f.publication_date, "works list"
    if reg and (reg.get("listed_as") or {}).get("publication_date"):
        item = reg["listed_as"]
        return item["publication_date"], f"contents of registration {reg['number']} (item {item['position']})"
    for r in ([reg] if reg else []) + f.registrations:
        if r and r.get("publication_date"):
            return r["publication_date"], f"registration {r['number']}"
    return None, None


def decide(f: WorkFacts, setting: str | None = None) -> Eligibility:
    e = _decide(f, setting)
    undated = [] if setting and setting != "auto" else [x for x in f.undated_sources if x not in f.first_copy_at]
    e.undated_sources = undated
    if undated and e.infringement_began is not None and e.status == "eligible":
        # an undated copy may be older than every dated one: only "not eligible" survives an earlier start
        e.status = "unknown"
        e.reason = (f"{e.reason}; but the work is also in {', '.join(undated)}, which has no date, so "
                    "infringement may have begun earlier: give that source's date (`--acquired`) or set "
                    "infringement_began in the class file")
    elif undated and e.status == "not eligible" and e.infringement_began is not None:
        e.reason += f" (also in undated {', '.join(undated)}: an earlier start would not change this)"
    return e


def _decide(f: WorkFacts, setting: str | None) -> Eligibility:
    began, how = infringement_start(f, setting)
    undated = [x for x in f.undated_sources if x not in f.first_copy_at]
    if not f.registrations:
        pub, pub_from = _publication(f, None)
        if not f.registrations_loaded:
            return Eligibility("unknown", "no registration records loaded: import them (`ascertain registrations "
                               "import`) before §412 can be answered", None, None, pub, began, how,
                               publication_source=pub_from)
        if f.pending_links:
            return Eligibility("unknown", f"{f.pending_links} registration link(s) await review", None, None, pub,
                               began, how, publication_source=pub_from)
        return Eligibility("not eligible", "no registration linked to the work in the case's records: §411(a) "
                           "bars suit until it is registered, and §412 bars statutory damages for infringement "
                           "begun before registration", None, None, pub, began, how, publication_source=pub_from)
    reg = f.registrations[0]  # the earliest effective date: the one §412 looks at
    pub, pub_from = _publication(f, reg)
    eff = dt.date.fromisoformat(reg["effective_date"])
    item = reg.get("listed_as")
    reg_from = (f"registration {reg['number']}" + (f" (a group registration; the work is item {item['position']} of "
                                                   f"its contents, {item['title']!r})" if item else ""))
    e = Eligibility("unknown", "", reg["number"], reg["effective_date"], pub, began, how,
                    publication_source=pub_from, registration_source=reg_from)
    pub_r = date_range(pub)
    if pub_r:
        grace = add_months(pub_r[1], GRACE_MONTHS)
        e.grace_ends = grace.isoformat()
        e.prima_facie_410c = eff <= add_months(pub_r[0], 60)
    if began is None:
        e.reason = ("no date for the start of infringement (" + (
            f"the work's copies are in {', '.join(undated)}, which has no date; " if undated else "")
            + "no --acquired date on the corpora where the work was found, no output timestamp, no "
            "infringement_began setting)")
        return e
    b = date_range(began)
    assert b is not None
    if eff <= b[0]:
        e.status, e.reason = "eligible", f"registered {reg['effective_date']}, before infringement began {began}"
        return e
    if pub_r is None:
        e.reason = (f"registered {reg['effective_date']}, after infringement began {began}; no publication date, "
                    "so the three-month grace cannot be tested")
        return e
    # (a coarse start date that reaches the effective date may have begun after registration: only "unknown")
    if b[1] < pub_r[0] and b[1] < eff:
        e.status, e.reason = "not eligible", (f"infringement began {began}, before first publication {pub} and "
                                              f"before registration {reg['effective_date']} (§412(1))")
        return e
    if eff <= dt.date.fromisoformat(e.grace_ends or "") and b[0] >= pub_r[1]:
        e.status, e.reason = "eligible", (f"registered {reg['effective_date']}, within three months of first "
                                          f"publication {pub} (grace ends {e.grace_ends}); infringement began "
                                          f"{began}")
        return e
    if eff > dt.date.fromisoformat(e.grace_ends or "") and b[1] < eff:
        e.status, e.reason = "not eligible", (f"infringement began {began}, after first publication {pub} and "
                                              f"before registration {reg['effective_date']}, which is later than "
                                              f"three months after publication (§412(2))")
        return e
    e.reason = (f"the dates are too coarse to decide (publication {pub}, infringement began {began}, "
                f"registration {reg['effective_date']})")
    return e
