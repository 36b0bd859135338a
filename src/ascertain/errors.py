"""Errors a user can act on: each names the input and the fix."""

from __future__ import annotations


class AscertainError(Exception):
    """A problem with the user's input or options; the CLI prints it and exits 2."""

    def __init__(self, what: str, problem: str, fix: str) -> None:
        self.what, self.problem, self.fix = what, problem, fix
        super().__init__(f"{what}: {problem}. Fix: {fix}")

    def __reduce__(self):  # picklable with its three parts: a worker process's error reaches the driver whole
        return (type(self), (self.what, self.problem, self.fix))
