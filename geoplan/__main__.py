"""``python -m geoplan`` runs the command line."""

from geoplan.cli.main import run

run()
