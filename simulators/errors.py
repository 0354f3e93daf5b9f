"""The error base class shared by every layer.

A :class:`UserError` is caused by the user's input (a bad file, an unknown name, a wrong
parameter). Its message is one line that names what is wrong and, where it comes from a file,
``FILE:LINE: field: message``. The CLI prints it without a traceback and exits non-zero; the
Python API simply raises it. It lives in ``simulators`` because that is the lowest layer
(``metaanalysis`` and ``cli`` may import it; ``simulators`` imports neither).
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input: the message is shown to the user as one line."""

    exit_code = 1
