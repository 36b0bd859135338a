"""Who may see what: the one place the web application decides access.

Every route names the capability it needs (`CAPABILITIES`); every text that can leave the server through a
page or its JSON twin passes through `text_allowed`. Sides: a case's works (and, by default, its model
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
