"""Every option, subcommand and dot-command of ``sochdb`` has help text and is documented
in docs/shell.md; the exit codes documented there are the errors' codes."""

from __future__ import annotations

import argparse
import os
import re

from sochdb import errors
from sochdb.cli.dot_commands import COMMANDS
from sochdb.cli.main import SUBCOMMANDS, build_demo_parser, build_parser
from sochdb.cli.render import MODES

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "shell.md")


def doc_text() -> str:
    with open(DOC, encoding="utf-8") as f:
        return f.read().replace("\\|", "|")  # pipes escaped inside Markdown tables


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def test_every_option_has_help_and_is_documented():
    text = doc_text()
    for parser in (build_parser(), build_demo_parser()):
        for action in options(parser):
            assert action.help, action.dest
            names = action.option_strings or [action.metavar]
            for name in names:
                assert f"`{name}" in text, name


def test_every_subcommand_has_help_and_a_section():
    text = doc_text()
    assert set(SUBCOMMANDS) == {"demo"}
    for name, help_text in SUBCOMMANDS.items():
        assert help_text
        assert f"## sochdb {name}" in text
    assert build_demo_parser().description


def test_every_dot_command_has_help_and_is_documented():
    text = doc_text()
    rows = re.findall(r"^\| `(\.[^`]+)` \|", text, re.M)
    assert rows == [c.usage for c in COMMANDS]  # documented in the order .help lists them
    for cmd in COMMANDS:
        assert cmd.help and cmd.usage.startswith("." + cmd.name)


def test_every_mode_is_documented():
    text = doc_text()
    for mode in MODES:
        assert f"| `{mode}` |" in text


def test_documented_exit_codes_are_the_error_codes():
    text = doc_text()
    table = dict(re.findall(r"^\| ([\d, ]+) \| (.+) \|$", text, re.M))
    by_name = {cls.__name__: cls.numeric for cls in vars(errors).values()
               if isinstance(cls, type) and issubclass(cls, errors.Error)}
    checked = 0
    for codes, meaning in table.items():
        names = re.findall(r"`(\w+Error)`", meaning)
        nums = [int(c) for c in codes.split(",")]
        for name, num in zip(names, nums):
            assert by_name[name] == num, (name, num)
            checked += 1
    assert checked >= 10
