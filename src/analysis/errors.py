"""Exception family for segreport.

Every user mistake (bad input file, bad parameter, bad period) raises a subclass of
:class:`AnalysisError` whose message is a readable paragraph. The CLI turns these into
exit code 2 without a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class AnalysisError(Exception):
    """Base class for errors a user can fix."""

    exit_code = 2


class ParamsError(AnalysisError):
    """A parameter is unknown, of the wrong type, or has an invalid value."""


class PeriodError(ParamsError):
    """A period string cannot be parsed or is out of range."""


class DataError(AnalysisError):
    """Input data breaks the data contract in a way that cannot be repaired.

    Parameters
    ----------
    problem
        What is wrong, in one sentence.
    file
        The input file (or table name) the problem is in.
    column
        The column concerned, if any.
    examples
        A few offending rows or values, shown in the message.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        column: str | None = None,
        examples: Sequence[object] | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.column = column
        self.examples = list(examples or [])[:5]
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file:
            where.append(f"file '{self.file}'")
        if self.column:
            where.append(f"column '{self.column}'")
        head = f"In {', '.join(where)}: " if where else ""
        text = head + self.problem
        if self.examples:
            shown = "; ".join(str(e) for e in self.examples)
            text += f" Examples: {shown}"
        return text


class ModelError(AnalysisError):
    """A statistical model could not be fitted to the data given (too little data,
    no convergence). Reports catch it and say so plainly."""
