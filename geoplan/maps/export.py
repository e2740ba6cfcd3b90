"""Pages to PDF and PNG with headless Chromium: reports for print, maps for slides.

Why Chromium: the report and the maps are HTML pages (Leaflet, inline SVG, CJK text); the
engine that shows them on screen is the one that prints them faithfully, with the pages'
own print stylesheets (A4, no map controls). geoplan does not ship a browser: it uses the
Chromium (or Chrome) installed on the machine (Debian/Ubuntu ``apt-get install
chromium``; Windows/macOS: Chrome or Edge), found on ``PATH`` or named by the environment
variable ``GEOPLAN_CHROMIUM``. Nothing is fetched: the page is opened from disk with
Chromium's network services off, so offline pages print offline.

``html_to_pdf`` prints a page (A4, backgrounds on, no header/footer); ``html_to_png``
screenshots it at a chosen size after the map has drawn. Both write atomically and turn a
missing browser, a crash or a time-out into a :class:`~geoplan.GeoplanInputError` that
says what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from geoplan._atomic import atomic_path
from geoplan._errors import GeoplanInputError

__all__ = ["BROWSERS", "find_chromium", "html_to_pdf", "html_to_png"]

#: Browser executables tried in order (after ``GEOPLAN_CHROMIUM``).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
            "chrome", "msedge")

#: Flags for a headless browser that touches no network and keeps no state.
_FLAGS = ("--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-extensions",
          "--disable-default-apps", "--mute-audio", "--hide-scrollbars")


def find_chromium() -> str:
    """The browser to render with: ``GEOPLAN_CHROMIUM``, else the first of :data:`BROWSERS`
    on ``PATH``.

    Returns
    -------
    str
        The executable's path.

    Raises
    ------
    GeoplanInputError
        When none is found (saying how to install one or name it).
    """
    named = os.environ.get("GEOPLAN_CHROMIUM")
    if named:
        path = shutil.which(named) or (named if Path(named).is_file() else None)
        if path is None:
            raise GeoplanInputError(f"GEOPLAN_CHROMIUM = '{named}' is not an executable",
                                    field="GEOPLAN_CHROMIUM",
                                    hint="give the path of chromium or chrome, or unset it")
        return path
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise GeoplanInputError(
        "PDF and PNG export need Chromium or Chrome, and none was found",
        field="chromium", hint="install it (Debian/Ubuntu: apt-get install chromium), or set "
        "GEOPLAN_CHROMIUM to its path; the HTML page can also be printed from any browser")


def _run(args: list[str], target: Path, what: str, timeout: float) -> None:
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="geoplan-chromium-") as profile:
        flags = [*_FLAGS, f"--user-data-dir={profile}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--no-sandbox")          # Chromium refuses to run as root otherwise
        try:
            done = subprocess.run([browser, *flags, *args], capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise GeoplanInputError(f"{what}: the browser did not finish in {timeout:g} s",
                                    path=target, hint="try again; a very large map may "
                                    "need --link-maps or a smaller population grid") from None
        except OSError as exc:
            raise GeoplanInputError(f"{what}: cannot start {browser} ({exc.strerror})",
                                    path=target, hint="check the browser installation or "
                                    "GEOPLAN_CHROMIUM") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise GeoplanInputError(f"{what}: the browser failed (exit {done.returncode}: {last})",
                                path=target, hint="check that the page opens in a browser")


def html_to_pdf(page: str | Path, pdf: str | Path, *, timeout: float = 180.0,
                wait_ms: int = 4000) -> Path:
    """Print an HTML page to PDF (A4 by the page's ``@page`` rule, backgrounds printed).

    Parameters
    ----------
    page
        The HTML file.
    pdf
        The PDF to write (atomically).
    timeout
        Seconds the browser may take.
    wait_ms
        Virtual time the page gets to draw its maps before printing.

    Returns
    -------
    pathlib.Path
        The PDF.

    Raises
    ------
    GeoplanInputError
        No browser, the page missing, or the browser failed or timed out.
    """
    return _write(page, pdf, "PDF export", timeout, lambda tmp: [
        f"--virtual-time-budget={int(wait_ms)}", "--no-pdf-header-footer",
        "--run-all-compositor-stages-before-draw", f"--print-to-pdf={tmp}"])


def html_to_png(page: str | Path, png: str | Path, *, width: int = 1600, height: int = 1000,
                timeout: float = 120.0, wait_ms: int = 4000) -> Path:
    """Screenshot an HTML page (a map for slides) at ``width`` x ``height`` pixels.

    Parameters
    ----------
    page
        The HTML file.
    png
        The PNG to write (atomically).
    width, height
        Size in pixels (100 to 10,000 each).
    timeout
        Seconds the browser may take.
    wait_ms
        Virtual time the page gets to draw before the screenshot.

    Returns
    -------
    pathlib.Path
        The PNG.

    Raises
    ------
    GeoplanInputError
        A size out of range, no browser, the page missing, or the browser failed.
    """
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, int) or not 100 <= v <= 10_000:
            raise GeoplanInputError(f"PNG {name} must be a whole number of pixels from 100 "
                                    f"to 10,000, got {v!r}", field=name,
                                    hint="e.g. 1600x1000 for a slide")
    return _write(page, png, "PNG export", timeout, lambda tmp: [
        f"--virtual-time-budget={int(wait_ms)}", f"--window-size={width},{height}",
        f"--screenshot={tmp}"])


def _write(page: str | Path, out: str | Path, what: str, timeout: float,
           flags: Callable[[Path], list[str]]) -> Path:
    """Render ``page`` into ``out`` atomically with the browser ``flags`` for the
    temporary file; a browser that writes nothing is an error."""
    src, target = _source(page), Path(out)
    with atomic_path(target) as tmp:
        _run([*flags(tmp), src.as_uri()], target, what, timeout)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise GeoplanInputError(f"{what}: the browser wrote nothing", path=target,
                                    hint="check that the page opens in a browser")
    return target


def _source(page: str | Path) -> Path:
    src = Path(page).resolve()
    if not src.is_file():
        raise GeoplanInputError("page not found", path=src, field="page",
                                hint="write the map or report first")
    return src
