"""Optional parts of uno and the ``pip install`` line that adds each.

uno installs as the distribution ``uno-memory`` (the name ``uno`` on PyPI is another project) and imports as
``uno``. A feature that needs an extra imports it through :func:`require`, so a missing extra fails with one line
naming the exact fix instead of a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import NoReturn

# The distribution name on PyPI; the import name stays ``uno``.
DISTRIBUTION = "uno-memory"


class MissingExtraError(ImportError):
    """A feature needs an optional extra that is not installed; the message says how to install it."""

    def __init__(self, feature: str, extra: str, missing: str) -> None:
        self.feature = feature
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{feature} needs the [{extra}] extra ({missing} is not installed): {install_command(extra)}",
            name=missing,
        )


def install_command(extra: str) -> str:
    """The shell command that installs ``extra``: ``pip install 'uno-memory[extra]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module``; raise ``MissingExtraError`` naming ``extra`` when it (or what it needs) is missing.

    Only a missing module counts: any other error inside the module's import is a real bug and propagates.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise_missing(error, extra=extra, feature=feature)


def raise_missing(error: ModuleNotFoundError, *, extra: str, feature: str) -> NoReturn:
    """Re-raise a failed import of an optional dependency as ``MissingExtraError``; a missing module of uno
    itself is a bug, not a missing extra, and is re-raised as it is."""
    package = (error.name or "").split(".")[0]
    if not package or package in ("uno", "rule_store"):
        raise error
    raise MissingExtraError(feature, extra, package) from error


__all__ = ["DISTRIBUTION", "MissingExtraError", "install_command", "raise_missing", "require"]
