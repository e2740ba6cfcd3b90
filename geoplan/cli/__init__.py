"""The ``geoplan`` command line: :mod:`~geoplan.cli.main` (every command) and
:mod:`~geoplan.cli.maps` (``geoplan map``)."""
