"""Who may see what: the one place the web application decides access.

Every route names the capability it needs (`CAPABILITIES`); every text that can leave the server through a
page or its JSON twin passes through `text_allowed`; every answer (JSON, page, CSV) passes through `redact`,
which applies the field rules (`FIELDS`): fields that name corpus documents or the server's files reach only
the parties and the master, at any depth of any answer. Sides: a case's works (and, by default, its model
outputs) are the plaintiffs' uploads; its corpora are the defendant's. The protective-order setting of the
case (`case.json`: "protective_order": {"other_side": "figures" | "text"}) says whether a party sees the
other side's text or only figures and hashes. The master sees everything; claims staff and the public never
see corpus text.
"""

from __future__ import annotations

ROLES = ("master", "plaintiff", "defendant", "claims", "public")

CAPABILITIES: dict[str, set[str]] = {
    "dashboard": {"master", "plaintiff", "defendant", "claims"},
    "works": {"master", "plaintiff", "defendant", "claims"},
    "evidence": {"master", "plaintiff", "defendant"},
    "classes": {"master", "plaintiff", "defendant", "claims"},
    "reviews": {"master", "claims"},
    "review_decide": {"master", "claims"},
    # membership challenges (Carrera): the parties open them and see them; only the master resolves them
    "disputes": {"master", "plaintiff", "defendant"},
    "dispute_open": {"master", "plaintiff", "defendant"},
    "dispute_resolve": {"master"},
    "lookup": set(ROLES),
}


PARTIES = frozenset({"master", "plaintiff", "defendant"})
# field name -> (who sees it whole, what the others get: "drop" it, or only the file "name" of a path)
FIELDS: dict[str, tuple[frozenset[str], str]] = {
    "doc_locator": (PARTIES, "drop"),  # where a corpus document is: the defendant's data
    "locator": (PARTIES, "drop"),
    "locator_short": (PARTIES, "drop"),
    "document": (PARTIES, "drop"),  # a corpus record named by an identifier hit
    "identifier_hits": (PARTIES, "drop"),
    "tier_detail": (PARTIES, "drop"),  # how a member entered a class: names corpus records and locators too
    "path": (PARTIES, "name"),  # a work file's path on the server: the others see its file name
    "work_file": (PARTIES, "name"),
    "work_file_short": (PARTIES, "name"),
}


def field_allowed(role: str, name: str) -> bool:
    rule = FIELDS.get(name)
    return rule is None or role in rule[0]


def redact(role: str, value):
    """The answer as this role may see it: the field rules applied at every depth (a new copy)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            rule = FIELDS.get(k)
            if rule is None or role in rule[0]:
                out[k] = redact(role, v)
            elif rule[1] == "name":
                out[k] = v.replace("\\", "/").rsplit("/", 1)[-1] if isinstance(v, str) else None
        return out
    if isinstance(value, list | tuple):
        return [redact(role, v) for v in value]
    return value


def can(role: str, capability: str) -> bool:
    return role in CAPABILITIES[capability]


def side_of_source(config: dict, source: dict) -> str:
    sides = config.get("source_sides", {})
    return sides.get(source["name"], "plaintiff" if source["kind"] == "outputs" else "defendant")


def text_allowed(config: dict, role: str, side: str) -> bool:
    """May this role read text that belongs to `side` (plaintiff | defendant)?"""
    if role == "master":
        return True
    if role in ("plaintiff", "defendant"):
        if role == side:
            return True
        return config.get("protective_order", {}).get("other_side", "figures") == "text"
    return False
