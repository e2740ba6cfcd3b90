"""Stage 1 - inputs: read, check and tag what a planner brings.

Facility lists, candidate sites, population grids (raster or vector), admin boundaries
and road networks are read here (:mod:`~geoplan.inputs.readers`), with their coordinate
systems converted (:mod:`~geoplan.inputs.chinacrs`: GCJ-02 and BD-09 to WGS-84), facility
types mapped (:mod:`~geoplan.inputs.facility_types`), the study area fixed
(:mod:`~geoplan.inputs.studyarea`) and a region folder loaded as one
:class:`~geoplan.inputs.region.Region`. Nothing here knows about travel or models.
"""
