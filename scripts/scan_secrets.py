#!/usr/bin/env python3
"""Looks for the test suite's secrets in what the suite captured: the logs, standard output and
error output of every process the tests ran, the HTTP responses and logs of in-process servers
that record them, and any further files named (ctest's Testing/Temporary/LastTest.log holds the
output of every test, passing ones too).

    scripts/scan_secrets.py CAPTURE_DIR [EXTRA_FILE...]

CAPTURE_DIR is the directory the tests wrote to when run with HELIOS_TEST_CAPTURE_DIR set
(tests/support/secret_capture.h): CAPTURE_DIR/secrets/*.txt hold the secrets handed to the
product, one a line (JWT secrets, API keys, passwords, the passwords of URLs); every other file
under CAPTURE_DIR is scanned. Each secret is looked for as it is and in the forms a leak takes on
the way out: base64 and base64url (at any alignment, so also inside a longer encoded value such
as a Basic credential or a JWT), percent-encoding, a JSON string's escaping, hex, and its first
12 characters (providers echo keys cut short: "Incorrect API key provided: sk-abc123...").

Each hit is printed as FILE:LINE with the kind of match and the secret masked; a secret is never
printed. Exit status: 0 when nothing was found; 1 when something was; 2 on bad usage, a missing
file, or when no secret was recorded at all (a capture that recorded nothing means the capture is
broken, and scanning for nothing must not pass).
"""
import base64
import binascii
import hashlib
import json
import os
import re
import sys
import urllib.parse

# Shorter values are not recorded by the tests either: a word like "secret" or "wrong" would
# match ordinary text, and a value that short is no credential.
MIN_SECRET = 8
# How much of a secret's beginning counts as a leak when it appears alone.
PREFIX = 12
# Encoded forms shorter than this are dropped: they would match by chance.
MIN_PATTERN = 8


def usage(message):
    print(f"scan_secrets: {message}", file=sys.stderr)
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    sys.exit(2)


def read_secrets(capture_dir):
    """The distinct secrets recorded under capture_dir/secrets, with the file that first named
    each one, and the number of files read."""
    secrets_dir = os.path.join(capture_dir, "secrets")
    found = {}
    files = 0
    if os.path.isdir(secrets_dir):
        for name in sorted(os.listdir(secrets_dir)):
            path = os.path.join(secrets_dir, name)
            if not os.path.isfile(path):
                continue
            files += 1
            with open(path, "rb") as f:
                for line in f.read().split(b"\n"):
                    line = line.rstrip(b"\r")
                    if len(line) >= MIN_SECRET and line not in found:
                        found[line] = os.path.join("secrets", name)
    return found, files


def base64_pieces(secret):
    """The part of the base64 (and base64url) encoding that depends only on the secret's bytes,
    for each of the three positions the secret can start at within a longer encoded value."""
    pieces = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret).rstrip(b"=")
        begin = (offset * 8 + 5) // 6
        end = (offset + len(secret)) * 8 // 6
        piece = encoded[begin:end]
        pieces.add(piece)
        pieces.add(piece.replace(b"+", b"-").replace(b"/", b"_"))
    return pieces


def forms(secret):
    """(kind, bytes) for every form of the secret that is looked for."""
    out = [("raw", secret)]
    if len(secret) > PREFIX:
        out.append(("first %d characters" % PREFIX, secret[:PREFIX]))
    out.extend(("base64", piece) for piece in base64_pieces(secret))
    text = secret.decode("utf-8", "replace")
    for quoted in (urllib.parse.quote(text, safe=""), urllib.parse.quote(text),
                   urllib.parse.quote_plus(text, safe="")):
        # Percent-escapes may be written in either case.
        lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)
        out.extend(("URL-encoded", q.encode()) for q in (quoted, lower))
    for escaped in (json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]):
        out.append(("JSON-escaped", escaped.encode()))
        out.append(("JSON-escaped", escaped.replace("/", "\\/").encode()))
    hexed = binascii.hexlify(secret)
    out.extend([("hex", hexed), ("hex", hexed.upper())])
    seen = set()
    result = []
    for kind, pattern in out:
        if kind != "raw" and (pattern == secret or len(pattern) < MIN_PATTERN):
            continue
        if pattern not in seen:
            seen.add(pattern)
            result.append((kind, pattern))
    return result


def trie_regex(patterns):
    """One regex matching any of the byte strings, built as a trie so that a scan costs about
    the same for hundreds of patterns as for one; at each position the longest match wins."""
    trie = {}
    for p in patterns:
        node = trie
        for byte in p:
            node = node.setdefault(byte, {})
        node[None] = True

    def build(node):
        end = None in node
        branches = []
        for byte in sorted(k for k in node if k is not None):
            branches.append(re.escape(bytes([byte])) + build(node[byte]))
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
        if end:
            return b"(?:" + body + b")?"
        return body

    return re.compile(build(trie), re.DOTALL)


def mask(secret):
    """How a hit names its secret: never the secret, enough to tell which one it is."""
    shown = secret[:2].decode("utf-8", "replace") if len(secret) >= 16 else ""
    digest = hashlib.sha256(secret).hexdigest()[:12]
    return "%s*** (%d chars, sha256 %s)" % (shown, len(secret), digest)


def scanned_files(capture_dir, extra):
    secrets_dir = os.path.join(capture_dir, "secrets")
    for root, dirs, names in os.walk(capture_dir):
        if os.path.abspath(root) == os.path.abspath(secrets_dir):
            dirs[:] = []
            continue
        dirs.sort()
        for name in sorted(names):
            yield os.path.join(root, name)
    yield from extra


def count_children(capture_dir):
    """(child processes recorded, those whose output was removed before it could be copied)."""
    children = lost = 0
    children_dir = os.path.join(capture_dir, "children")
    if os.path.isdir(children_dir):
        for name in os.listdir(children_dir):
            with open(os.path.join(children_dir, name), "rb") as f:
                for line in f.read().splitlines():
                    children += 1
                    lost += b" lost" in line
    return children, lost


def main(argv):
    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        usage("a capture directory is needed")
    capture_dir, extra = argv[0], argv[1:]
    if not os.path.isdir(capture_dir):
        usage(f"{capture_dir} is not a directory")
    for path in extra:
        if not os.path.isfile(path):
            usage(f"{path} is not a file")
    secrets, secret_files = read_secrets(capture_dir)
    if not secrets:
        print(f"scan_secrets: no secret recorded in {capture_dir}/secrets ({secret_files} files): "
              "the capture is broken (was HELIOS_TEST_CAPTURE_DIR set for the tests?)",
              file=sys.stderr)
        return 2

    # pattern -> (secret number, kind); a pattern shared by two secrets keeps the first.
    by_pattern = {}
    numbered = sorted(secrets)
    for number, secret in enumerate(numbered, 1):
        for kind, pattern in forms(secret):
            by_pattern.setdefault(pattern, (number, kind))
    regex = trie_regex(by_pattern)

    files = 0
    total_bytes = 0
    hits = []
    for path in scanned_files(capture_dir, extra):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            print(f"scan_secrets: cannot read {path}: {e}", file=sys.stderr)
            return 2
        files += 1
        total_bytes += len(data)
        reported = set()
        for match in regex.finditer(data):
            line = data.count(b"\n", 0, match.start()) + 1
            number, kind = by_pattern[match.group(0)]
            if (line, number) in reported:
                continue
            reported.add((line, number))
            hits.append((path, line, number, kind))

    for path, line, number, kind in hits:
        secret = numbered[number - 1]
        print(f"{path}:{line}: {kind} of secret S{number} {mask(secret)}, "
              f"recorded in {secrets[secret]}")
    children, lost = count_children(capture_dir)
    print(f"scan_secrets: {len(secrets)} secrets ({len(by_pattern)} forms) from {secret_files} "
          f"files; {files} files scanned ({total_bytes} bytes); output of {children - lost} of "
          f"{children} child processes captured; {len(hits)} hits")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
