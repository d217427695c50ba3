#!/usr/bin/env python3
"""Prints the question mix of the performance suite (bench/suite.sh) as request bodies, one JSON
object per line: questions of ten shapes whose SQL reads small tables (regions, categories,
employees, products) or indexed columns (customers by country or segment), with the values
taken from the demo database given as the argument. Each question opens a new conversation.

The values make most questions differ from one another, so that what the server remembers
between requests (follow-up checks, decoded cache entries) meets many different questions, as
it would in use, rather than ten it has seen a thousand times.

    bench/questions.py build/bench/suite/demo.db > bodies.txt

With --distinct N it prints N questions instead, each with a value no other one has (products
above a price, employees above a salary), so that nothing the server remembers by the answered
query (follow-up suggestions, their checks) can serve a question twice: the cost of an answer
seen for the first time.

    bench/questions.py build/bench/suite/demo.db --distinct 20000 > distinct.txt
"""
import json
import sqlite3
import sys


def column(db, sql):
    return [row[0] for row in db.execute(sql)]


def main():
    args = sys.argv[1:]
    distinct = None
    if len(args) == 3 and args[1] == "--distinct" and args[2].isdigit() and int(args[2]) > 0:
        distinct = int(args[2])
        args = args[:1]
    if len(args) != 1:
        sys.exit("usage: questions.py DEMO_DB [--distinct N]")
    if distinct is not None:
        for k in range(distinct):
            if k % 2 == 0:
                q = f"products with a unit price above {20 + k * 0.01:.2f}"
            else:
                q = f"employees with a salary above {30000 + k}"
            print(json.dumps({"query": q}))
        return
    db = sqlite3.connect(f"file:{args[0]}?mode=ro", uri=True)
    countries = column(db, "SELECT DISTINCT country FROM customers ORDER BY country")
    segments = column(db, "SELECT DISTINCT segment FROM customers ORDER BY segment")
    categories = column(db, "SELECT name FROM categories ORDER BY name")
    regions = column(db, "SELECT name FROM regions ORDER BY name")
    titles = column(db, "SELECT DISTINCT title FROM employees ORDER BY title")
    if not (countries and segments and categories and regions and titles):
        sys.exit(f"{args[0]} is not the demo database (bin demo-data writes it)")

    questions = []
    questions += [f"How many customers are in {c}?" for c in countries]
    questions += [f"How many {s} customers are there?" for s in segments]
    questions += [f"List the products in the {c} category" for c in categories]
    questions += [f"What are the {n} most expensive products?" for n in range(3, 13)]
    questions += [f"Which employees work in {r}?" for r in regions]
    questions += [f"How many employees are {t}s?" for t in titles]
    questions += [f"products with a unit price above {p}" for p in (50, 100, 200, 500, 1000)]
    questions += [
        "How many products are discontinued?",
        "average unit price of products by category",
        "number of employees per region",
        "What is the highest salary?",
        "How many customers are there?",
    ]
    for q in questions:
        print(json.dumps({"query": q}))


if __name__ == "__main__":
    main()
