"""Works in the public domain: by the user's mark, or published more than 95 years before a given year (US term
for works published 1929 and later that were renewed is longer; a date is a first screen, the mark decides).

Classes leave such works out of every class (a public-domain work has no owner to be a member), and the report
answers §1202(b) for them as not applicable; both read this one rule.
"""

from __future__ import annotations

from sqlalchemy import select

PD_YEARS = 95  # US: a work published more than 95 years before this year's 1 January is in the public domain


def public_domain(identifiers: dict | None, publication_date: str | None, as_of_year: int) -> str | None:
    """Why a work is in the public domain ('marked … by the user', 'published 1813, …'), or None."""
    ids = identifiers or {}
    flag = str(ids.get("public_domain", "")).strip().lower()
    if flag in ("yes", "true", "1", "y"):
        return "marked public domain by the user"
    date = str(publication_date or ids.get("publication_date") or ids.get("published") or "")
    year = int(date[:4]) if date[:4].isdigit() else None
    if year is not None and year < as_of_year - PD_YEARS:
        return f"published {year}, more than {PD_YEARS} years before {as_of_year}"
    return None


def public_domain_works(case, publication_dates: dict[int, str | None], as_of_year: int) -> dict[int, str]:
    """work id -> why it is in the public domain, for every work of the case that is."""
    from ascertain.store import schema

    with case.store.engine.connect() as c:
        rows = c.execute(select(schema.works.c.id, schema.works.c.identifiers)).all()
    out = {}
    for wid, ids in rows:
        why = public_domain(ids, publication_dates.get(wid), as_of_year)
        if why:
            out[wid] = why
    return out
