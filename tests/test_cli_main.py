"""The CLI group's error handling: one line and a non-zero exit, a traceback only with --debug."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cli.main import Context, _Group
from simulators.errors import UserError


def _group() -> click.Group:
    @click.group(cls=_Group)
    @click.option("--debug", is_flag=True)
    @click.pass_context
    def group(ctx: click.Context, debug: bool) -> None:
        ctx.obj = Context(annotations=None, db=None, quiet=True, debug=debug)

    @group.command()
    def user() -> None:
        raise UserError("annotations/papers/x.yaml:3: year: not an integer")

    @group.command()
    def bug() -> None:
        raise RuntimeError("boom\nsecond line")

    return group


def test_user_error_is_one_line_and_exit_1():
    result = CliRunner().invoke(_group(), ["user"])
    assert result.exit_code == 1
    assert result.output == "error: annotations/papers/x.yaml:3: year: not an integer\n"


def test_unexpected_error_is_one_line_and_exit_2_without_traceback():
    result = CliRunner().invoke(_group(), ["bug"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1
    assert result.output.startswith("error: unexpected RuntimeError: boom (rerun with --debug")


def test_debug_lets_the_exception_through():
    result = CliRunner().invoke(_group(), ["--debug", "bug"])
    assert isinstance(result.exception, RuntimeError)


def test_click_usage_errors_keep_their_own_handling():
    result = CliRunner().invoke(_group(), ["nope"])
    assert result.exit_code == 2 and "No such command" in result.output


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_exit_0(args):
    from cli.main import main

    assert CliRunner().invoke(main, args).exit_code == 0
