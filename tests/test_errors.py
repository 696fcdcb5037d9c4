"""hawizard.common.errors.run_command: the one place errors become a message and an exit code.

Both entry points (``hawizard`` and ``python -m hawizard.lab``) use it; tests/test_lab_unit.py runs
both as an operator does.
"""

from __future__ import annotations

import io
import sys

import pytest

from hawizard.common.errors import (
    EnvironmentProblem,
    HawizardError,
    InputError,
    OperationFailed,
    run_command,
)


def _raise(exc: BaseException):
    def handler():
        raise exc
    return handler


@pytest.mark.parametrize(("value", "code"), [(None, 0), (0, 0), (1, 1), (3, 3), (True, 1)])
def test_a_handler_returns_its_exit_code(value, code, capsys):
    assert run_command(lambda: value) == code
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("error", "code"), [(InputError, 2), (EnvironmentProblem, 3), (OperationFailed, 1),
                                             (HawizardError, 1)])
def test_an_error_becomes_one_line_and_its_exit_code(error, code, capsys):
    assert run_command(_raise(error("bad value in lab.toml:3"))) == code
    assert capsys.readouterr().err == "hawizard: bad value in lab.toml:3\n"


def test_a_message_quoting_a_node_cannot_drive_the_terminal(capsys):
    words = "node says: \x1b]0;owned\x07\x1b[2Jcleared\u202eevil\nsecond line"
    assert run_command(_raise(OperationFailed(words))) == 1
    err = capsys.readouterr().err
    assert err == "hawizard: node says: clearedevil\nsecond line\n"


def test_ctrl_c_is_exit_130_without_a_traceback(capsys):
    assert run_command(_raise(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "hawizard: interrupted\n"


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert run_command(_raise(BrokenPipeError())) == 0
    assert sys.stdout.name == "/dev/null"  # later writes (interpreter shutdown) go nowhere
    sys.stdout.close()
    assert capsys.readouterr().err == ""


def test_other_exceptions_are_not_hidden():
    with pytest.raises(ZeroDivisionError):
        run_command(lambda: 1 / 0)
