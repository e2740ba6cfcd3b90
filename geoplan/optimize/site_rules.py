"""Planners' rules on candidate sites: must open, must stay shut, at most k new per unit.

Why: a plan is the planner's as much as the model's. A site already promised in the
five-year plan must open (``force_open``); a site the land bureau has refused must not
(``force_closed``); and "no district gets more than two new stations"
(``max_new_per_unit``). Every site model takes the same three options; this module
checks them once and hands the models plain arrays.

In the numeric front doors sites are **column indices** and units are given per column
(``site_unit``); the GIS front doors take candidate **ids** (:func:`site_columns`) and
the units of the candidate sites (``admin_code``).

Semantics, shared by every model:

* a forced-open site is a **new** site of the plan: it counts towards ``p``, the budget,
  the cost and the unit cap, and appears in ``Plan.selected``;
* a forced-closed site is never opened (existing sites cannot be closed: they are open);
* ``max_new_per_unit`` = an int (every unit) or a mapping unit -> int; new sites per
  unit, forced ones included, stay within it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError, GeoplanWarning

__all__ = ["SiteRules", "check_site_rules", "problem_site_units", "site_columns"]


@dataclass(frozen=True)
class SiteRules:
    """Checked site rules of one model call.

    Attributes
    ----------
    force_open, force_closed
        Sorted candidate column indices.
    group
        Cap group per column (``-1``: no cap), or None without ``max_new_per_unit``.
    cap
        Most new sites per group (forced-open ones included), or None.
    group_names
        The unit of each group, for messages.
    """

    force_open: NDArray[np.intp]
    force_closed: NDArray[np.intp]
    group: NDArray[np.intp] | None = None
    cap: NDArray[np.int64] | None = None
    group_names: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether any rule is set."""
        return bool(self.force_open.size or self.force_closed.size or self.group is not None)

    def remaining_cap(self) -> NDArray[np.int64] | None:
        """Caps left per group once the forced-open sites are counted."""
        if self.cap is None or self.group is None:
            return None
        used = np.bincount(self.group[self.force_open][self.group[self.force_open] >= 0],
                           minlength=self.cap.size)
        return self.cap - used

    def close(self, coverage: sparse.csr_matrix) -> sparse.csr_matrix:
        """The coverage matrix with the forced-closed columns emptied."""
        if not self.force_closed.size:
            return coverage
        keep = np.ones(coverage.shape[1], float)
        keep[self.force_closed] = 0.0
        out = (coverage.astype(float) @ sparse.diags(keep)).tocsr()
        out.eliminate_zeros()
        return (out != 0).astype(bool).tocsr()

    def drop_closed(self, matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        """A copy of a CSR matrix without the stored entries of forced-closed columns.

        Unlike :meth:`close` it keeps the values (travel times, stored zeros included).
        """
        if not self.force_closed.size:
            return matrix
        M = sparse.csr_matrix(matrix)
        gone = np.zeros(M.shape[1], bool)
        gone[self.force_closed] = True
        keep = ~gone[M.indices]
        rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))[keep]
        indptr = np.zeros(M.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=M.shape[0]), out=indptr[1:])
        return sparse.csr_matrix((M.data[keep], M.indices[keep], indptr), shape=M.shape)

    def details(self) -> dict[str, Any]:
        """The rules as plain data for ``Plan.details``."""
        out: dict[str, Any] = {}
        if self.force_open.size:
            out["force_open"] = self.force_open.tolist()
        if self.force_closed.size:
            out["force_closed"] = self.force_closed.tolist()
        if self.cap is not None:
            out["max_new_per_unit"] = dict(zip(self.group_names, self.cap.tolist(),
                                               strict=True))
        return out


def _indices(value: ArrayLike | None, m: int, name: str) -> NDArray[np.intp]:
    if value is None:
        return np.array([], np.intp)
    try:
        a = np.asarray(value).ravel()
    except (TypeError, ValueError):
        raise GeoplanInputError(f"{name} must be a list of site column indices",
                                field=name) from None
    if a.size == 0:
        return np.array([], np.intp)
    if a.dtype.kind not in "iu" and not (a.dtype.kind == "f" and np.all(a == np.round(a))):
        raise GeoplanInputError(f"{name} must hold whole column indices, got {a[:5].tolist()}",
                                field=name, hint="in the GIS front door pass candidate ids")
    a = a.astype(np.int64)
    bad = a[(a < 0) | (a >= m)]
    if bad.size:
        raise GeoplanInputError(f"{name} holds indices outside 0..{m - 1}: "
                                f"{sorted(set(bad.tolist()))[:10]}", field=name)
    return np.unique(a).astype(np.intp)


def check_site_rules(m: int, existing: ArrayLike | None, *,
                     force_open: ArrayLike | None = None,
                     force_closed: ArrayLike | None = None,
                     max_new_per_unit: int | Mapping[str, int] | None = None,
                     site_unit: ArrayLike | None = None) -> SiteRules:
    """Check the site rules of a model over ``m`` site columns.

    Parameters
    ----------
    m
        Number of site columns (existing and candidates).
    existing
        Columns of existing sites (they cannot be forced open or closed).
    force_open, force_closed
        Candidate columns that must / must not open.
    max_new_per_unit
        Most new sites in any unit (an int), or per unit (a mapping unit -> int; units
        left out are not capped).
    site_unit
        Unit of every column (needed with ``max_new_per_unit``).

    Returns
    -------
    SiteRules

    Raises
    ------
    GeoplanInputError
        Naming the option at fault: indices out of range, existing sites, a site both
        forced open and closed, a cap without units, a candidate without a unit, or more
        forced-open sites in a unit than its cap.
    """
    ex = np.unique(np.asarray([] if existing is None else existing, np.int64).ravel())
    fo = _indices(force_open, m, "force_open")
    fc = _indices(force_closed, m, "force_closed")
    for arr, name in ((fo, "force_open"), (fc, "force_closed")):
        hit = np.intersect1d(arr, ex)
        if hit.size:
            raise GeoplanInputError(
                f"{name} holds existing sites (columns {hit[:10].tolist()}); existing sites "
                "are open and stay open", field=name,
                hint="list candidate sites only")
    both = np.intersect1d(fo, fc)
    if both.size:
        raise GeoplanInputError(f"sites {both[:10].tolist()} are both forced open and forced "
                                "closed", field="force_open")
    if max_new_per_unit is None:
        return SiteRules(force_open=fo, force_closed=fc)
    if site_unit is None:
        raise GeoplanInputError("max_new_per_unit needs the admin unit of every site",
                                field="max_new_per_unit",
                                hint="pass site_unit= (numeric door) or give the candidates "
                                     "an admin_code (GIS door)")
    unit = np.asarray(site_unit, dtype=object).ravel()
    if unit.shape != (m,):
        raise GeoplanInputError(f"site_unit has {unit.size} values for {m} sites",
                                field="site_unit")
    cand = np.setdiff1d(np.arange(m), ex)
    missing = [int(j) for j in cand if unit[j] is None or (isinstance(unit[j], float)
                                                           and np.isnan(unit[j]))]
    if missing:
        raise GeoplanInputError(
            f"{len(missing)} candidate site(s) have no admin unit (columns {missing[:10]}), "
            "so max_new_per_unit cannot be applied to them", field="max_new_per_unit",
            hint="give every candidate an admin_code (load admin boundaries) or close them "
                 "with force_closed")
    labels = np.array([str(u) for u in unit], dtype=object)
    names = sorted({labels[j] for j in cand})
    if isinstance(max_new_per_unit, Mapping):
        caps_in = {str(k): v for k, v in max_new_per_unit.items()}
        unknown = sorted(set(caps_in) - set(names))
        if unknown:
            warnings.warn(f"max_new_per_unit names unit(s) with no candidate site: "
                          f"{', '.join(unknown[:10])}; nothing to cap there", GeoplanWarning,
                          stacklevel=3)
    else:
        caps_in = {n: max_new_per_unit for n in names}
    for k, v in caps_in.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise GeoplanInputError(f"max_new_per_unit must be a whole number >= 0, got {v!r}"
                                    + ("" if isinstance(max_new_per_unit, int) else
                                       f" for unit {k}"), field="max_new_per_unit")
    capped = [n for n in names if n in caps_in]
    gid = {n: g for g, n in enumerate(capped)}
    group = np.full(m, -1, np.intp)
    for j in cand:
        group[j] = gid.get(labels[j], -1)
    cap = np.array([int(caps_in[n]) for n in capped], np.int64)
    rules = SiteRules(force_open=fo, force_closed=fc, group=group, cap=cap,
                      group_names=capped)
    left = rules.remaining_cap()
    assert left is not None
    over = np.flatnonzero(left < 0)
    if over.size:
        g = int(over[0])
        raise GeoplanInputError(
            f"unit {capped[g]} has {int(cap[g] - left[g])} forced-open sites but "
            f"max_new_per_unit allows {int(cap[g])}", field="force_open",
            hint="raise the unit's cap or force fewer sites open there")
    return rules


def site_columns(problem: Any, ids: Any, option: str) -> NDArray[np.intp] | None:
    """Column indices of candidate ids in a :class:`~geoplan.optimize.gis.SiteProblem`.

    Parameters
    ----------
    problem
        The site problem (its ``sites`` frame has ``site_id`` and ``kind``).
    ids
        Candidate ids (strings or numbers, compared as text), or None.
    option
        The option name, for messages (``"force_open"``, ``"force_closed"``).

    Returns
    -------
    numpy.ndarray or None
        Sorted columns, None when ``ids`` is None.

    Raises
    ------
    GeoplanInputError
        For an id that is not a candidate site (names the id and whether it is an
        existing facility).
    """
    if ids is None:
        return None
    if isinstance(ids, (str, bytes)):
        ids = [ids]
    wanted = [str(i) for i in ids]
    sid = problem.sites["site_id"].astype(str).to_numpy()
    kind = problem.sites["kind"].to_numpy()
    pos = {s: j for j, s in enumerate(sid) if kind[j] == "candidate"}
    existing = {s for j, s in enumerate(sid) if kind[j] != "candidate"}
    bad = [i for i in wanted if i not in pos]
    if bad:
        ex = [i for i in bad if i in existing]
        if ex:
            verb = "is an existing facility" if len(ex) == 1 else "are existing facilities"
            what = f"{', '.join(ex[:5])} {verb}"
        else:
            what = f"no candidate site has id {', '.join(bad[:5])}"

        raise GeoplanInputError(f"{option}: {what}", field=option,
                                hint="list ids of candidate sites (the candidates file's id "
                                     "column)")
    return np.array(sorted({pos[i] for i in wanted}), np.intp)


def problem_site_units(problem: Any) -> NDArray[np.object_] | None:
    """The admin unit of every site column of a site problem (None without any)."""
    if "admin_code" not in problem.sites.columns:
        return None
    return problem.sites["admin_code"].to_numpy(dtype=object)
