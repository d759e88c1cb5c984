"""Record the per-file pass counts of the upstream corpus (run after improving the engine).

    python sql_tests/update_baseline.py [--jobs N]

Counts only go up unless ``--allow-drop`` is given, so a regression cannot be recorded by
accident.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE / "upstream"
BASELINE = HERE / "upstream_baseline.json"


def _run(path: str) -> tuple[str, int, int, int]:
    from sochdb.testing import SochDBAdapter, run_file
    fr = run_file(path, SochDBAdapter(storage="memory"))
    return str(Path(path).relative_to(UPSTREAM)), fr.passed, fr.failed, fr.skipped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--allow-drop", action="store_true")
    args = ap.parse_args()
    files = sorted(str(p) for p in UPSTREAM.rglob("*.test"))
    old = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    new = dict(old)
    with ProcessPoolExecutor(args.jobs) as pool:
        for rel, passed, failed, skipped in pool.map(_run, files):
            prev = old.get(rel)
            if prev is not None and passed < prev and not args.allow_drop:
                print(f"DROP  {rel}: {passed} < {prev} (kept {prev})")
                continue
            new[rel] = passed
            print(f"{'same' if prev == passed else 'set '}  {rel}: {passed} passed, "
                  f"{failed} failed, {skipped} skipped")
    BASELINE.write_text(json.dumps(dict(sorted(new.items())), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
