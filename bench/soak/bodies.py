#!/usr/bin/env python3
"""Prints request bodies for the soak run (scripts/soak.sh), one JSON object per line, for one
stream of its mix:

    bodies.py DEMO_DB engine FIRST COUNT
        COUNT new questions the built-in engine answers from the employees table (50 rows), each
        naming a period no other one names ("in the last N days", N from FIRST + 1): such
        numbers are words of the semantic cache's signature, not values, so every one is a
        cache miss and a new cache entry, as new questions are in use.
    bodies.py DEMO_DB llm FIRST COUNT
        COUNT new questions the engine declines, so the language model answers them; numbered
        the same way, so that none is answered from the cache.
    bodies.py DEMO_DB conversations FIRST COUNT GROUP PREFIX
        Conversations of four turns (a question, then three follow-ups that edit its answer),
        each with its own session id PREFIX-K (K from FIRST), the values taken from the demo
        database and varied with K. At least COUNT bodies, in whole groups of GROUP
        conversations: turn 1 of each conversation of the group, then turn 2 of each, and so
        on, so that at GROUP requests a second the turns of one conversation are a second apart
        and each follow-up finds its previous turn answered.

Every question here was checked against the demo database with `heliosdb-conversational-bi
ask`: the engine answers the engine and conversation ones (confidence 1), and declines the llm
ones. The soak reports the measured shares (from the request log), so a change of the engine
that moves a question to another path shows there.
"""
import json
import sqlite3
import sys

ENGINE = [
    "How many employees were hired in the last {} days?",
    "Which employees were hired in the last {} days?",
    "What is the average salary of employees hired in the last {} days?",
]
LLM = [
    "which customers are most likely to churn in the last {} days",
    "what should we sell next based on the last {} days",
]


def column(db, sql):
    return [row[0] for row in db.execute(sql)]


def conversation(k, values):
    """The four questions of conversation k: one of three shapes, on small or indexed tables."""
    categories, regions, countries, segments = values
    shape = k % 3
    i = k // 3
    if shape == 0:
        return [
            f"Which products are in the {categories[i % len(categories)]} category?",
            f"with a unit price above {10 + (i * 7) % 490}",
            f"the {2 + i % 11} most expensive",
            f"what about {categories[(i + 5) % len(categories)]}?",
        ]
    if shape == 1:
        return [
            f"Which employees work in {regions[i % len(regions)]}?",
            f"with a salary above {40000 + (i * 500) % 40000}",
            "how many are there?",
            f"what about {regions[(i + 2) % len(regions)]}?",
        ]
    return [
        f"How many customers are in {countries[i % len(countries)]}?",
        "by segment",
        f"only {segments[i % len(segments)]}",
        f"what about {countries[(i + 7) % len(countries)]}?",
    ]


def main():
    args = sys.argv[1:]
    kinds = {"engine": 4, "llm": 4, "conversations": 6}
    if len(args) < 2 or kinds.get(args[1]) != len(args) or not all(
            a.isdigit() for a in args[2:4] + args[4:5]):
        sys.exit(__doc__)
    db_path, kind, first, count = args[0], args[1], int(args[2]), int(args[3])
    out = sys.stdout
    if kind in ("engine", "llm"):
        templates = ENGINE if kind == "engine" else LLM
        for i in range(count):
            n = first + i + 1
            out.write(json.dumps({"query": templates[i % len(templates)].format(n)}) + "\n")
        return
    group, prefix = int(args[4]), args[5]
    if group < 1:
        sys.exit("GROUP must be at least 1")
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    values = (
        column(db, "SELECT name FROM categories ORDER BY name"),
        column(db, "SELECT name FROM regions ORDER BY name"),
        column(db, "SELECT DISTINCT country FROM customers ORDER BY country"),
        column(db, "SELECT DISTINCT segment FROM customers ORDER BY segment"),
    )
    if not all(values):
        sys.exit(f"{db_path} is not the demo database (bin demo-data writes it)")
    turns = 4
    groups = -(-count // (turns * group))
    for g in range(groups):
        ks = range(first + g * group, first + (g + 1) * group)
        questions = {k: conversation(k, values) for k in ks}
        for t in range(turns):
            for k in ks:
                out.write(json.dumps({"session_id": f"{prefix}-{k}", "query": questions[k][t]}) +
                          "\n")


if __name__ == "__main__":
    main()
