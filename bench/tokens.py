"""Token counts of JSON, CSV and both TOON forms on realistic query results, plus encode speed.

Run: ``python bench/tokens.py`` (needs the optional tokenizer: ``pip install bpe-openai``, or
``pip install -e '.[bench]'``). Counts use the o200k_base and cl100k_base encodings, offline.
Prints a markdown table (the one in docs/toon.md) and timings of encoding a 100k-row result.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from sochdb.toon import encode, to_compact

ENCODINGS = ("o200k_base", "cl100k_base")

FIRST = ["Alice", "Bob", "Carol", "David", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
         "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter",
         "Yasmin", "Zoe", "Liam", "Noah", "Emma", "Mia", "Lucas", "Sofia", "Mateo", "Aisha"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
        "Martinez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
        "Martin", "Lee", "Thompson", "White", "Nguyen", "Kowalski", "Okafor", "Schmidt"]
CITIES = ["Berlin", "London", "New York", "San Francisco", "Tokyo", "Paris", "Toronto",
          "Sydney", "Madrid", "Oslo", "Singapore", "Austin", "Dublin", "Lagos", "Seoul"]
PRODUCTS = [("Laptop Pro 14", "computers", 1299.0), ("Wireless Mouse", "accessories", 24.99),
            ("USB-C Cable, 2m", "accessories", 9.5), ("4K Monitor 27\"", "displays", 349.0),
            ("Mechanical Keyboard", "accessories", 89.9), ("Noise-Cancelling Headphones",
                                                           "audio", 199.0),
            ("Webcam HD", "accessories", 49.0), ("Portable SSD 1TB", "storage", 119.99),
            ("Smartphone X", "phones", 799.0), ("Desk Lamp", "home office", 34.5)]
STATUSES = ["paid", "shipped", "delivered", "refunded", "pending"]
SENTENCES = [
    "SochDB stores tables as Arrow record batches with per-row version metadata.",
    "A transaction reads the snapshot taken at its start, plus its own writes.",
    "Commit appends one checksummed record to the write-ahead log before it returns.",
    "Checkpoints write immutable segment files and then atomically replace the manifest.",
    "Vector indexes use HNSW graphs; recall depends on the ef_search parameter.",
    "When two transactions update the same row, the first committer wins.",
    "Use prepared statements with ? placeholders to avoid re-parsing SQL text.",
    "The key-value API stores pairs in a hidden, ordered, two-column table.",
    "Scans over a prefix run as a range scan from the prefix to its successor.",
    "In full sync mode, commit waits for fsync; in normal mode, fsyncs may be grouped.",
    "Results can be exported to pandas, Arrow, or TOON for language-model prompts.",
    "For bulk loads, batch many inserts into one transaction to amortize the commit cost.",
    "Recovery replays the log past the last checkpoint and truncates a torn final record.",
    "Each error carries a stable code, so servers and the CLI can map it to an exit status.",
]


def users(n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(1, n + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        out.append({"id": i, "name": f"{first} {last}",
                    "email": f"{first.lower()}.{last.lower()}{i}@example.com",
                    "age": rng.randint(18, 79), "city": rng.choice(CITIES),
                    "plan": rng.choice(["free", "pro", "team"]), "active": rng.random() < 0.8,
                    "signup_date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"})
    return out


def orders_join(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """SELECT o.id, o.created_at, c.name, c.email, p.name, p.category, o.qty, p.price,
    o.qty * p.price AS total, o.status FROM orders o JOIN customers c ... JOIN products p."""
    people = users(40, rng)
    out = []
    for i in range(1, n + 1):
        c, (product, category, price) = rng.choice(people), rng.choice(PRODUCTS)
        qty = rng.randint(1, 4)
        out.append({"order_id": 10_000 + i,
                    "created_at": f"2024-06-{rng.randint(1, 30):02d}T{rng.randint(0, 23):02d}:"
                                  f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
                    "customer": c["name"], "email": c["email"], "product": product,
                    "category": category, "qty": qty, "unit_price": price,
                    "total": round(qty * price, 2), "status": rng.choice(STATUSES)})
    return out


def rag_documents(n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(1, n + 1):
        text = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(8, 14)))
        topic = rng.choice(["transactions", "storage", "vectors", "sql", "kv", "recovery"])
        out.append({"doc_id": f"doc-{i:04d}", "title": f"{topic.title()} guide, part {i}",
                    "source": f"https://docs.example.com/{topic}/{i}",
                    "score": round(1 - i * 0.037 + rng.random() * 0.01, 4), "content": text})
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


FORMATS: dict[str, Callable[[str, list[dict[str, Any]]], str]] = {
    "JSON (compact)": lambda name, rows: json.dumps(rows, separators=(",", ":"),
                                                    ensure_ascii=False),
    "JSON (pretty, indent 2)": lambda name, rows: json.dumps(rows, indent=2, ensure_ascii=False),
    "CSV": lambda name, rows: to_csv(rows),
    "TOON compact (guide)": lambda name, rows: to_compact(name, rows),
    "TOON spec v4": lambda name, rows: encode({name: rows}),
}


def _counter(encoding: Any) -> Callable[[str], int]:
    return lambda text: len(encoding.encode(text))


def load_tokenizers() -> dict[str, Callable[[str], int]]:
    """o200k_base and cl100k_base counters from bpe-openai, else from a working tiktoken."""
    try:
        import bpe_openai
        return {name: _counter(bpe_openai.get_encoding(name)) for name in ENCODINGS}
    except ImportError:
        pass
    try:
        import tiktoken
        return {name: _counter(tiktoken.get_encoding(name)) for name in ENCODINGS}
    except Exception:  # not installed, or its encodings cannot be fetched offline
        sys.exit("bench/tokens.py needs an offline tokenizer: pip install bpe-openai "
                 "(or pip install -e '.[bench]')")


def token_table(count: dict[str, Callable[[str], int]]) -> str:
    rng = random.Random(2024)
    datasets = [("users", "100 users (8 columns)", users(100, rng)),
                ("orders", "e-commerce join, 100 rows (10 columns)", orders_join(100, rng)),
                ("documents", "RAG: 12 documents with long text", rag_documents(12, rng))]
    lines = [("| result | format | chars | o200k tokens | vs JSON compact | cl100k tokens "
              "| vs JSON compact |"), "|---|---|---:|---:|---:|---:|---:|"]
    for name, label, rows in datasets:
        base: dict[str, int] = {}
        for fmt, fn in FORMATS.items():
            text = fn(name, rows)
            cells = [label, fmt, f"{len(text):,}"]
            for enc in ENCODINGS:
                tokens = count[enc](text)
                base.setdefault(enc, tokens)
                cells += [f"{tokens:,}", f"{(tokens - base[enc]) / base[enc]:+.1%}"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def timings(rows: int, repeat: int) -> str:
    rng = random.Random(7)
    data = [{"id": i, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
             "email": f"user{i}@example.com", "city": rng.choice(CITIES),
             "score": round(rng.random() * 100, 2)} for i in range(rows)]
    cases = {"to_compact (guide form)": lambda: to_compact("result", data),
             "encode (spec v4)": lambda: encode({"result": data}),
             "json.dumps (compact, reference)": lambda: json.dumps(data, separators=(",", ":")),
             "csv.DictWriter (reference)": lambda: to_csv(data)}
    lines = [(f"Encoding a {rows:,}-row result (5 columns: int, 3 str, float), "
              f"{repeat} runs each:"), "", "| encoder | median s | min s | max s |",
             "|---|---:|---:|---:|"]
    for label, fn in cases.items():
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - start)
        lines.append(f"| {label} | {statistics.median(runs):.3f} | {min(runs):.3f} | "
                     f"{max(runs):.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the timing run")
    parser.add_argument("--repeat", type=int, default=7, help="timing runs per encoder")
    parser.add_argument("--no-timing", action="store_true", help="only count tokens")
    args = parser.parse_args()
    print(token_table(load_tokenizers()))
    if not args.no_timing:
        print()
        print(timings(args.rows, args.repeat))


if __name__ == "__main__":
    main()
