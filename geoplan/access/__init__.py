"""Stage 3 - access: who is covered today and where the gaps are.

Coverage by cell and by admin unit within a time standard, nearest facility by type,
beds per 1,000 (:mod:`~geoplan.access.coverage`), two-step floating catchment and
capacity-aware access (:mod:`~geoplan.access.accessibility`), gap grouping
(:mod:`~geoplan.access.gaps`) and isochrone polygons (:mod:`~geoplan.access.isochrones`).
Built on :mod:`geoplan.travel`; knows nothing of models or maps.
"""
