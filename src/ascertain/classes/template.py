"""A commented class file to start from (`ascertain classes CASE --init`), made from the criteria the
evaluator knows (classes/criteria.py FIELDS), so it lists every criterion with its meaning."""

from __future__ import annotations

from ascertain.classes.criteria import FIELDS, UNITS

EXAMPLE = '''
[[class]]
name = "in-corpus"
description = "Works in a training corpus, by content or by identifier"
[class.criteria]
in_corpus = true

[[class.subclass]]              # a subclass: its members also meet the class's criteria
name = "statutory"
description = "... registered in time for statutory damages (17 U.S.C. 412)"
[class.subclass.criteria]
registered = true
s412 = "eligible"

[[class]]
name = "regurgitated"
description = "Works a model reproduced in its outputs"
[class.criteria]
regurgitated = true
# coverage = ">= 0.5"           # numbers take a comparison: >=, <=, >, <, ==
'''


def class_file_template() -> str:
    kinds = {"bool": "true or false", "number": 'a number or a comparison such as ">= 0.5"',
             "choice": 'a value or a list of values'}
    lines = ["# A class file: which works belong to which class (`ascertain classes CASE --file THIS`).",
             "# Each [[class]] has a name, a description and [class.criteria]; a work is a member when it meets",
             "# every criterion. Criteria (name = value):"]
    for name, (kind, meaning) in FIELDS.items():
        lines.append(f"#   {name:<24} {meaning} ({kinds[kind]})")
    lines += ["#",
              f'unit = "work"                   # the unit of account: {" or ".join(UNITS)}',
              'infringement_began = "auto"     # or a date (YYYY-MM-DD); auto: per source, `corpus add --acquired`']
    return "\n".join(lines) + "\n" + EXAMPLE
