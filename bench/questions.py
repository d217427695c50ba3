#!/usr/bin/env python3
"""Prints the question mix of the performance suite (bench/suite.sh) as request bodies, one JSON
object per line: questions of ten shapes whose SQL reads small tables (regions, categories,
employees, products) or indexed columns (customers by country or segment), with the values
taken from the demo database given as the argument. Each question opens a new conversation.

The values make most questions differ from one another, so that what the server remembers
between requests (follow-up checks, decoded cache entries) meets many different questions, as
it would in use, rather than ten it has seen a thousand times.

    bench/questions.py build/bench/suite/demo.db > bodies.txt
"""
import json
import sqlite3
import sys


def column(db, sql):
    return [row[0] for row in db.execute(sql)]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: questions.py DEMO_DB")
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    countries = column(db, "SELECT DISTINCT country FROM customers ORDER BY country")
    segments = column(db, "SELECT DISTINCT segment FROM customers ORDER BY segment")
    categories = column(db, "SELECT name FROM categories ORDER BY name")
    regions = column(db, "SELECT name FROM regions ORDER BY name")
    titles = column(db, "SELECT DISTINCT title FROM employees ORDER BY title")
    if not (countries and segments and categories and regions and titles):
        sys.exit(f"{sys.argv[1]} is not the demo database (bin demo-data writes it)")

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
