"""The ``sochdb`` command: subcommands dispatch to their own modules."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "demo":
        from sochdb.cli.demo import run_demo
        return run_demo(args[1] if len(args) > 1 else None)
    print("usage: sochdb demo [DIR]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
