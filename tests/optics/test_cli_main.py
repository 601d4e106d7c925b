"""Exit statuses of the command line frame."""

import argparse

import pytest

import optics.cli as cli
from optics.errors import InvalidParameter


def _with_command(monkeypatch, func):
    real = cli.build_parser

    def build():
        parser = real()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sub.add_parser("boom").set_defaults(func=func)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)


@pytest.mark.parametrize(
    "exc, code, text",
    [
        (InvalidParameter("x = -1 is outside [0, 1]"), 2, "x = -1 is outside"),
        (FileNotFoundError(2, "No such file", "f.csv"), 2, "No such file"),
        (ZeroDivisionError("a bug"), 2, "internal error"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_errors_never_exit_with_the_fail_status(monkeypatch, capsys, exc, code, text):
    def run(args):
        raise exc

    _with_command(monkeypatch, run)
    assert cli.main(["boom"]) == code
    assert text in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out
