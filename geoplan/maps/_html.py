"""Self-contained HTML: vendored Leaflet inlined, data URIs, safe embedding of text and JSON.

Why: maps and reports are opened on office PCs of health commissions, often on intranets
with no internet. A map that loads Leaflet from a CDN shows a blank page there. Leaflet
1.9.4 (BSD-2-Clause, ``assets/leaflet/LICENSE``) ships inside the package
(``geoplan/assets/leaflet``, taken unchanged from the npm package ``leaflet@1.9.4``) and
is written into each page; the images its stylesheet refers to become data URIs.
"""

from __future__ import annotations

import base64
import html
import json
import re
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "LEAFLET_VERSION",
    "data_uri",
    "esc",
    "external_references",
    "inline_assets",
    "js_json",
]

LEAFLET_VERSION = "1.9.4"
LEAFLET_JS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CSS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"

_SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc="([^"]+)"[^>]*>\s*</script>', re.I)
_LINK_HREF = re.compile(r'<link[^>]*\bhref="([^"]+)"[^>]*/?>', re.I)
_JS_TOKEN = "<!--geoplan:leaflet.js-->"
_CSS_TOKEN = "<!--geoplan:leaflet.css-->"
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.M)


def _asset(*parts: str) -> bytes:
    return resources.files("geoplan.maps").joinpath("assets", *parts).read_bytes()


def data_uri(data: bytes, mime: str) -> str:
    """Return ``data`` as a base64 ``data:`` URI (images and fonts inside one HTML file).

    Parameters
    ----------
    data
        The bytes.
    mime
        Their media type, e.g. ``"image/png"``.

    Returns
    -------
    str
    """
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def esc(value: Any) -> str:
    """Escape a value for HTML text or a double-quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def js_json(value: Any) -> str:
    r"""Serialise ``value`` as JSON that is safe inside a ``<script>`` element.

    ``</`` is written as ``<\\/`` so that a string holding ``</script>`` cannot end the
    script early; JSON parsers read both the same.

    Parameters
    ----------
    value
        Anything :func:`json.dumps` accepts.

    Returns
    -------
    str
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@cache
def leaflet_js() -> str:
    """Return the vendored ``leaflet.js`` (source-map comment removed)."""
    text = _asset("leaflet", "leaflet.js").decode("utf-8")
    return _SOURCE_MAP.sub("", text).replace("</script", "<\\/script")


@cache
def leaflet_css() -> str:
    """Return the vendored ``leaflet.css`` with its images as data URIs."""
    css = _asset("leaflet", "leaflet.css").decode("utf-8")

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"url({data_uri(_asset('leaflet', 'images', name), 'image/png')})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", repl, css)


#: Libraries folium lists by default that geoplan's pages never use (no jQuery popups,
#: no Bootstrap, no Font Awesome or Glyphicon icons); dropped from every page.
_UNUSED = ("jquery", "bootstrap", "awesome-markers", "fontawesome", "glyphicons",
           "leaflet.awesome.rotate")


def external_references(page: str) -> list[str]:
    """List the URLs of scripts and stylesheets a page loads from outside itself.

    Parameters
    ----------
    page
        HTML text.

    Returns
    -------
    list of str
        ``src`` of ``<script>`` and ``href`` of ``<link>`` elements (data URIs excluded).
    """
    urls = _SCRIPT_SRC.findall(page) + _LINK_HREF.findall(page)
    return [u for u in urls if not u.startswith("data:")]


def inline_assets(page: str, *, offline: bool = True) -> str:
    """Replace Leaflet links by the vendored files and drop libraries the page does not use.

    Parameters
    ----------
    page
        HTML rendered by folium.
    offline
        If True, inline Leaflet so the page needs no network; if False, keep (or point)
        Leaflet at its CDN and only drop the unused libraries.

    Returns
    -------
    str
        The page.

    Raises
    ------
    RuntimeError
        If ``offline`` and the page still refers to another external script or
        stylesheet (a map element that needs a library geoplan does not ship).
    """
    def script(match: re.Match[str]) -> str:
        url = match.group(1)
        low = url.lower()
        if any(u in low for u in _UNUSED):
            return ""
        if low.endswith("/leaflet.js") or low.endswith("/leaflet-src.js"):
            if not offline:
                return f'<script src="{LEAFLET_JS_URL}"></script>'
            return _JS_TOKEN
        return match.group(0)

    def link(match: re.Match[str]) -> str:
        url = match.group(1)
        low = url.lower()
        if any(u in low for u in _UNUSED):
            return ""
        if low.endswith("/leaflet.css"):
            if not offline:
                return f'<link rel="stylesheet" href="{LEAFLET_CSS_URL}"/>'
            return _CSS_TOKEN
        return match.group(0)

    out = _LINK_HREF.sub(link, _SCRIPT_SRC.sub(script, page))
    if offline:
        left = external_references(out)
        if left:
            raise RuntimeError("the page still loads external files: " + ", ".join(left))
        out = out.replace(_JS_TOKEN, f"<script>/* Leaflet {LEAFLET_VERSION}, BSD-2-Clause */\n"
                                     f"{leaflet_js()}</script>", 1)
        out = out.replace(_CSS_TOKEN, f"<style>/* Leaflet {LEAFLET_VERSION}, BSD-2-Clause */\n"
                                      f"{leaflet_css()}</style>", 1)
    return out
