"""One error hierarchy. The CLI (kharden.cli) is the one place that turns these into messages and exit codes."""

from __future__ import annotations


class KhardenError(Exception):
    """Anything kharden reports to the user instead of a traceback. Exit code 2."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        doc: int | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.doc = doc
        self.line = line  # 1-based
        self.column = column  # 1-based

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            loc = self.file
            if self.line is not None:
                loc += f":{self.line}"
                if self.column is not None:
                    loc += f":{self.column}"
            where.append(loc)
        if self.doc is not None:
            where.append(f"document {self.doc + 1}")
        prefix = " ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class InputError(KhardenError):
    """A manifest kharden cannot read: malformed YAML, wrong field types, unrendered templates, ..."""


class ProfileError(KhardenError):
    """A profile that does not exist or does not validate."""


class UsageError(KhardenError):
    """Command-line options that do not fit together."""


class InternalError(KhardenError):
    """kharden failed at its own work (an edit it cannot place safely, output that does not read back): a bug to
    report, never the input's fault. Exit code 3; nothing is written."""

    exit_code = 3
