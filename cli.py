"""Run the geoplan command line from a source checkout: ``python cli.py --help``."""

from geoplan.cli.main import run

if __name__ == "__main__":
    run()
