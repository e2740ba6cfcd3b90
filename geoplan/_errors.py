"""Exception and warning types raised by geoplan.

Every problem with user input is reported as a :class:`GeoplanInputError` whose message
names the file, the row or feature, the field, and what to do about it. Code that calls
geoplan (the CLI, notebooks, scenario runners) needs to catch only this one family.
"""

from __future__ import annotations

from os import PathLike


class GeoplanError(Exception):
    """Base class of every error geoplan raises on purpose."""


class GeoplanInputError(GeoplanError, ValueError):
    """Input data or parameters are wrong; the message says where and how to fix it.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    path
        The file the problem is in, if any.
    row
        Human row/feature label (e.g. ``"row 12"`` counting the header as row 1, or
        ``"feature 3"``), if the problem is in one record.
    field
        The column or attribute at fault, if any.
    hint
        What the user should do.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        row: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.field = field
        self.hint = hint
        self.reason = message
        where = []
        if self.path:
            where.append(self.path)
        if row:
            where.append(row)
        if field:
            where.append(f"field '{field}'")
        text = (": ".join([", ".join(where), message]) if where else message)
        if hint:
            text += f" -> {hint}"
        super().__init__(text)


class GeoplanWarning(UserWarning):
    """Something in the input is suspicious but usable (e.g. points outside the study area)."""
