"""The sochdb-bulk command, run as a separate process: every subcommand, and bad files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from sochdb.cli.bulk import build_parser

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUBCOMMANDS = ["build-index", "query", "info", "convert"]


def run(*args: str, cwd: os.PathLike) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sochdb.cli.bulk", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _vectors(n=300, d=16, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, 4)).astype(np.float32)
    b = rng.standard_normal((4, d)).astype(np.float32)
    return (a @ b + 0.05 * rng.standard_normal((n, d))).astype(np.float32)


@pytest.fixture
def files(tmp_path):
    x = _vectors()
    np.save(tmp_path / "embeddings.npy", x)
    x[7].tofile(tmp_path / "query_vector.raw")
    return tmp_path, x


def test_console_script_is_declared():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        assert 'sochdb-bulk = "sochdb.cli.bulk:main"' in f.read().splitlines()


def test_build_query_info_as_in_the_guide(files):
    tmp, _ = files
    r = run("build-index", "--input", "embeddings.npy", "--output", "index.hnsw",
            "--dimension", "16", "--max-connections", "16", "--ef-construction", "100",
            "--metric", "cosine", cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"Built 300 vectors at \d+ vec/s\nIndex size: \d+\.\d MB\n", r.stdout)
    assert r.stderr == ""                     # no progress bar when stderr is not a terminal

    r = run("query", "--index", "index.hnsw", "--query", "query_vector.raw", "--k", "10",
            "--ef", "64", cwd=tmp)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Top 10 nearest neighbors:" and len(lines) == 11
    assert re.fullmatch(r"1\. ID: 7, Distance: 0\.0000", lines[1])
    for i, line in enumerate(lines[1:], 1):
        assert re.fullmatch(rf"{i}\. ID: \d+, Distance: \d\.\d{{4}}", line)

    r = run("info", "--index", "index.hnsw", cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "Dimension: 16", "Vectors: 300", "Max connections: 16", "EF construction: 100",
        "Metric: cosine", "Graph dtype: i8 (re-ranked with float32)", "File version: 1",
        f"File size: {(tmp / 'index.hnsw').stat().st_size / 1e6:.1f} MB"]


def test_build_options_progress_ids_and_json(files):
    tmp, x = files
    np.save(tmp / "ids.npy", np.arange(300) + 10_000)
    r = run("build-index", "--input", "embeddings.npy", "--output", "l2.hnsw", "--metric",
            "euclidean", "--dtype", "f16", "--threads", "1", "--max-connections", "8",
            "--ids", "ids.npy", "--progress", "--json", cwd=tmp)
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert (stats["vectors"], stats["dimension"], stats["metric"], stats["dtype"],
            stats["m"]) == (300, 16, "l2", "f16", 8)
    assert stats["size_bytes"] == (tmp / "l2.hnsw").stat().st_size and stats["rate"] > 0
    assert "Building index 100%" in r.stderr and "300/300 vectors" in r.stderr

    np.save(tmp / "queries.npy", x[[3, 9]])
    r = run("query", "--index", "l2.hnsw", "--query", "queries.npy", "--k", "3", "--json",
            cwd=tmp)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row[0]["id"] for row in rows] == [10_003, 10_009]
    assert all(len(row) == 3 and set(row[0]) == {"id", "distance"} for row in rows)
    r = run("query", "--index", "l2.hnsw", "--query", "queries.npy", "--k", "2", cwd=tmp)
    assert r.stdout.splitlines()[0] == "Query 1: top 2 nearest neighbors:"
    assert "Query 2: top 2 nearest neighbors:" in r.stdout

    r = run("info", "--index", "l2.hnsw", "--json", "--verify", cwd=tmp)
    info = json.loads(r.stdout)
    assert (info["metric"], info["dtype"], info["m"], info["checksums"]) == ("l2", "f16", 8, "ok")


def test_build_from_raw_and_fvecs(files):
    tmp, x = files
    x.tofile(tmp / "vectors.raw")
    r = run("build-index", "--input", "vectors.raw", "--dimension", "16", "--output",
            "raw.hnsw", cwd=tmp)
    assert r.returncode == 0, r.stderr
    r = run("convert", "--input", "vectors.raw", "--output", "v.fvecs", "--dimension", "16",
            cwd=tmp)
    assert r.returncode == 0, r.stderr
    r = run("build-index", "--input", "v.fvecs", "--output", "fv.hnsw", cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert (tmp / "raw.hnsw").stat().st_size == (tmp / "fv.hnsw").stat().st_size


def test_convert_round_trip(files):
    tmp, x = files
    r = run("convert", "--input", "embeddings.npy", "--output", "vectors.raw", "--to-format",
            "raw_f32", "--dimension", "16", cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Converted 300 vectors of dimension 16 from npy to raw_f32")
    np.testing.assert_array_equal(np.fromfile(tmp / "vectors.raw", "<f4").reshape(300, 16), x)
    assert run("convert", "--input", "vectors.raw", "--output", "v.fvecs", "--to-format",
               "fvecs", "--dimension", "16", cwd=tmp).returncode == 0
    assert run("convert", "--input", "v.fvecs", "--output", "back", "--to-format", "npy",
               cwd=tmp).returncode == 0
    np.testing.assert_array_equal(np.load(tmp / "back"), x)


def _bad_files(tmp, x):
    np.save(tmp / "ints.npy", np.arange(12).reshape(3, 4))
    data = (tmp / "embeddings.npy").read_bytes()
    (tmp / "trunc.npy").write_bytes(data[:len(data) // 2])
    x[:, :15].tofile(tmp / "odd.raw")
    np.save(tmp / "q17.npy", np.zeros(17, np.float32))
    (tmp / "trunc.fvecs").write_bytes(np.int32(16).tobytes() + b"\0" * 30)
    r = run("build-index", "--input", "embeddings.npy", "--output", "good.hnsw", cwd=tmp)
    assert r.returncode == 0
    good = (tmp / "good.hnsw").read_bytes()
    (tmp / "trunc.hnsw").write_bytes(good[:len(good) - 5000])


BAD = [
    (["build-index", "--input", "trunc.npy", "--output", "o.hnsw"], "truncated .npy file"),
    (["build-index", "--input", "ints.npy", "--output", "o.hnsw"], "found dtype int64"),
    (["build-index", "--input", "embeddings.npy", "--output", "o.hnsw", "--dimension", "768"],
     "dimension 16, expected 768"),
    (["build-index", "--input", "odd.raw", "--dimension", "16", "--output", "o.hnsw"],
     "not a whole number of 16-dimensional float32 vectors"),
    (["build-index", "--input", "odd.raw", "--output", "o.hnsw"], "need the dimension"),
    (["build-index", "--input", "missing.npy", "--output", "o.hnsw"], "no such file"),
    (["query", "--index", "good.hnsw", "--query", "q17.npy"], "dimension 17, expected 16"),
    (["query", "--index", "trunc.hnsw", "--query", "query_vector.raw"], "truncated .hnsw file"),
    (["query", "--index", "embeddings.npy", "--query", "query_vector.raw"],
     "not a sochdb .hnsw index file"),
    (["info", "--index", "trunc.npy"], "not a sochdb .hnsw index file"),
    (["convert", "--input", "trunc.fvecs", "--output", "o.npy"], "truncated .fvecs file"),
]


def test_bad_files_give_one_line_and_nonzero_exit(files):
    tmp, x = files
    _bad_files(tmp, x)
    for args, message in BAD:
        r = run(*args, cwd=tmp)
        assert r.returncode != 0, args
        assert "Traceback" not in r.stderr, r.stderr
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("sochdb-bulk: error: "), r.stderr
        assert message in lines[0], (args, lines[0])
        assert r.stdout == ""
    assert not (tmp / "o.hnsw").exists() and not (tmp / "o.npy").exists()


def test_usage_errors_exit_2(files):
    tmp, _ = files
    r = run("build-index", "--input", "embeddings.npy", "--output", "o.hnsw", "--metric", "foo",
            cwd=tmp)
    assert r.returncode == 2 and "invalid choice: 'foo'" in r.stderr
    assert run(cwd=tmp).returncode == 2


def test_every_subcommand_has_help_and_is_documented():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(SUBCOMMANDS)
    with open(os.path.join(ROOT, "docs", "vectors.md")) as f:
        docs = f.read()
    for name, sp in sub.choices.items():
        assert sp.description and sp.format_help()
        assert f"sochdb-bulk {name}" in docs
        for action in sp._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, (name, action.option_strings)
                assert action.option_strings[0] in docs, (name, action.option_strings)
