"""Explaining why a coverage target cannot be met, and by how much it must be relaxed.

Why: "infeasible" tells a planner nothing. What they need is *who* cannot be reached
by any candidate site within the time standard (which towns, how many people) and the
best that is achievable, so the target can be discussed: opening every candidate covers
exactly the coverable population, so the largest achievable share - overall and per
unit - is cheap to compute and is the smallest relaxation that makes the target
feasible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geoplan import labels

__all__ = ["Shortfall", "explain_shortfall"]


@dataclass
class Shortfall:
    """Why a coverage target is out of reach.

    Attributes
    ----------
    target_share, unit_min_share
        The targets asked for.
    max_share
        Largest share of the population any plan can cover (all candidates open).
    unreachable_population
        People that no existing or candidate site reaches within the standard.
    units
        Per unit: ``unit``, ``population``, ``unreachable``, ``max_share``, ``meets``
        (whether the unit target is achievable); empty without units.
    unit_names
        Optional unit code -> name for messages.
    """

    target_share: float
    unit_min_share: float | None
    max_share: float
    unreachable_population: float
    units: pd.DataFrame = field(default_factory=pd.DataFrame)
    unit_names: dict[Any, str] | None = None

    def message(self, lang: str = "en") -> str:
        """A sentence for reports (``"en"`` or ``"zh"``)."""
        bad = self.units[~self.units["meets"]] if len(self.units) else self.units
        names = self.unit_names or {}
        listed = ", ".join(f"{names.get(r.unit, r.unit)} ({r.max_share:.1%})"
                           for r in bad.itertuples()) if len(bad) else ""
        text = labels.text("explain.cover", lang, people=self.unreachable_population,
                           best=self.max_share, target=self.target_share)
        if listed:
            text += labels.text("explain.cover_units", lang, unit_target=self.unit_min_share,
                                units=listed)
        return text

    def __str__(self) -> str:
        return self.message()


def explain_shortfall(w: NDArray[np.float64], coverable: NDArray[np.bool_],
                      target_share: float, unit: NDArray[np.object_] | None = None,
                      unit_min_share: float | None = None, *,
                      tol: float = 1e-9) -> Shortfall | None:
    """Return a :class:`Shortfall` if the targets are unreachable, else None.

    Parameters
    ----------
    w
        Population per demand row.
    coverable
        Whether some existing or candidate site reaches each row.
    target_share
        Overall share to cover.
    unit, unit_min_share
        Unit per row and the per-unit minimum share (optional).
    tol
        Relative tolerance on shares.

    Returns
    -------
    Shortfall or None
    """
    total = float(w.sum())
    reach = float(w[coverable].sum())
    max_share = reach / total if total > 0 else 1.0
    units = pd.DataFrame(columns=["unit", "population", "unreachable", "max_share", "meets"])
    unit_ok = True
    if unit is not None and unit_min_share is not None:
        f = pd.DataFrame({"unit": pd.Series(unit, dtype=object).astype(str), "w": w,
                          "r": np.where(coverable, w, 0.0)})
        g = f.groupby("unit", sort=True).sum()
        pop = g["w"].to_numpy()
        ms = np.where(pop > 0, g["r"].to_numpy() / np.where(pop > 0, pop, 1), 1.0)
        meets = ms >= unit_min_share - tol
        units = pd.DataFrame({"unit": g.index.to_numpy(), "population": pop,
                              "unreachable": pop - g["r"].to_numpy(), "max_share": ms,
                              "meets": meets})
        unit_ok = bool(meets.all())
    if max_share >= target_share - tol and unit_ok:
        return None
    return Shortfall(target_share=target_share, unit_min_share=unit_min_share,
                     max_share=max_share, unreachable_population=total - reach, units=units)
