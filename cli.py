"""Run the geoplan command line from a source checkout: ``python cli.py --help``."""

import sys

from geoplan.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
