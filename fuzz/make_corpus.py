#!/usr/bin/env python3
"""Regenerates the seed corpora in fuzz/corpus/ from the repository's own real inputs: the
example and golden questions, the configuration file and the TOML in docs/, the golden and
hostile SQL, and tokens signed with the JWT fuzzer's test key. Run from anywhere; files are
named by the SHA-1 of their content, as libFuzzer names what it adds."""
import base64
import hashlib
import hmac
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def golden():
    questions, conversations = [], []
    q = json.loads((ROOT / "tests/golden/data/questions.json").read_text())
    questions += [c["question"] for c in q["cases"]]
    sql = [c["sql"] for c in q["cases"]]
    c = json.loads((ROOT / "tests/golden/data/conversations.json").read_text())
    for conv in c["conversations"]:
        turns = conv["turns"]
        sql += [t["sql"] for t in turns if t.get("sql")]
        for a, b in zip(turns, turns[1:]):
            conversations.append(a["question"] + "\n" + b["question"])
    for line in (ROOT / "examples/retail.jsonl").read_text().splitlines():
        if line.strip():
            e = json.loads(line)
            questions.append(e["question"])
            sql.append(e["sql"])
    return questions, conversations, sql


def hostile(name):
    lines = (ROOT / "tests/security/data" / name).read_text().splitlines()
    return [l.split("  # read-only ok")[0] for l in lines if l.strip() and not l.startswith("#")]


def toml_blocks():
    blocks = [(ROOT / "config/conversational-bi.toml").read_text()]
    for md in list((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        blocks += re.findall(r"```toml\n(.*?)```", md.read_text(), re.S)
    # The TOML the configuration tests parse: C++ string literals, concatenated.
    test = (ROOT / "tests/config/config_test.cc").read_text()
    for m in re.finditer(r'Parse\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', test):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))
        text = "".join(parts).encode().decode("unicode_escape")
        if text.strip():
            blocks.append(text)
    return blocks


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


SECRET = b"fuzzing-secret-0123456789abcdef-0123456789"
ISSUER = "heliosdb-conversational-bi"
NOW = 1_700_000_000


def token(header, claims, secret=SECRET):
    signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64(sig)


def jwt_seeds():
    header = {"alg": "HS256", "typ": "JWT"}
    good = {"sub": "alice", "tenant": "acme", "roles": ["analyst"], "iss": ISSUER,
            "iat": NOW, "exp": NOW + 3600, "jti": "00112233445566778899aabbccddeeff"}
    variants = [
        good,
        dict(good, roles=["admin", "analyst"]),
        dict(good, exp=NOW - 1),
        dict(good, iat=NOW + 3600),
        dict(good, nbf=NOW + 30),
        dict(good, iss="someone-else"),
        {k: v for k, v in good.items() if k != "tenant"},
        dict(good, exp=str(NOW + 3600)),
    ]
    for claims in variants:
        # Mode byte '0' (even): the token as received.
        write("jwt", "0" + token(header, claims))
        # Mode byte '1' (odd): header and claims, signed by the fuzzer.
        write("jwt", "1" + json.dumps(header) + "\n" + json.dumps(claims))
    write("jwt", "0" + token({"alg": "none"}, good))
    write("jwt", "0" + token({"alg": "HS512"}, good))
    write("jwt", "0" + token(header, good, secret=b"another-secret-0123456789abcdef-0123456789"))
    write("jwt", "1" + json.dumps({"alg": "HS256"}) + "\n" + json.dumps(dict(good, sub=7)))


def main():
    questions, conversations, sql = golden()
    for q in questions[:80]:
        write("engine", q)
        write("question_shape", q)
    for pair in conversations[:40]:
        write("engine", pair)
    for q in hostile("hostile_questions.txt")[:30]:
        write("engine", q)
        write("question_shape", q)
    for q in questions[:20]:
        write("query_request", json.dumps({"query": q}))
    write("query_request", json.dumps({"session_id": "3f2b1c4e-5d6a-4b7c-8d9e-0a1b2c3d4e5f",
                                       "query": "only in Germany", "database": "sales"}))
    write("query_request", '{"query": "caf\\u00e9 orders", "session_id": null, "database": ""}')
    write("query_request", '{"query": "line\\u0085break"}')
    write("query_request", '{"query": 5}')
    write("query_request", '["query"]')
    for s in sql[:80] + hostile("hostile_sql.txt"):
        for target in ("sql_guard_postgres", "sql_guard_mysql", "sql_guard_sqlite"):
            write(target, s)
    for block in toml_blocks():
        write("config", block)
    jwt_seeds()


if __name__ == "__main__":
    main()
