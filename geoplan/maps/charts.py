"""Matplotlib settings shared by every chart geoplan draws (report curves, comparisons).

Why: Chinese labels drawn with matplotlib's default font come out as empty boxes ("tofu",
``Glyph missing``): DejaVu Sans has no CJK glyphs, and matplotlib does not index the
``.ttc`` collections most CJK fonts ship as (Noto Sans CJK, WenQuanYi, Microsoft YaHei,
PingFang). So:

- charts are SVG with their text kept as text (``svg.fonttype = "none"``): the browser
  that shows the page draws the labels with its own fonts, whatever matplotlib has;
- a CJK font found on the system (:data:`CJK_FONT_FILES`, or a family matplotlib already
  knows) is registered and named first, so layout is measured with real glyphs and
  raster output (PNG, notebooks) has them too;
- without one, matplotlib's "Glyph ... missing" warnings are silenced for SVG output
  only (the glyphs are the browser's to draw); raster output is then the caller's to
  check (:func:`cjk_fonts` is empty).
"""

from __future__ import annotations

import contextlib
import glob
import warnings
from collections.abc import Iterator
from functools import lru_cache

__all__ = ["CJK_FONTS", "CJK_FONT_FILES", "chart_context", "cjk_fonts"]

#: Font families with Chinese glyphs, most common first (Linux, Windows, macOS).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
             "PingFang SC", "Heiti SC", "Droid Sans Fallback", "Noto Sans CJK JP")

#: Where those fonts live (Debian/Ubuntu packages fonts-noto-cjk, fonts-wqy-*,
#: fonts-droid-fallback; Windows; macOS): globbed once, registered with matplotlib.
CJK_FONT_FILES = ("/usr/share/fonts/**/NotoSansCJK-Regular.ttc",
                  "/usr/share/fonts/**/NotoSansCJK*.ttc", "/usr/share/fonts/**/wqy-*.ttc",
                  "/usr/share/fonts/**/DroidSansFallback*.ttf",
                  "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simhei.ttf",
                  "/System/Library/Fonts/PingFang.ttc", "/Library/Fonts/*CJK*")


@lru_cache(maxsize=1)
def cjk_fonts() -> tuple[str, ...]:
    """The families of :data:`CJK_FONTS` matplotlib can use here, after registering the
    first CJK font file found (:data:`CJK_FONT_FILES`) when it knows none."""
    from matplotlib import font_manager  # noqa: PLC0415 - heavy, only for charts

    def known() -> tuple[str, ...]:
        have = {f.name for f in font_manager.fontManager.ttflist}
        return tuple(f for f in CJK_FONTS if f in have)

    if not known():
        for pattern in CJK_FONT_FILES:
            for path in sorted(glob.glob(pattern, recursive=True)):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue                  # unreadable file: try the next
                if known():
                    return known()
    return known()


@contextlib.contextmanager
def chart_context() -> Iterator[None]:
    """Draw a chart inside this: SVG text kept as text, CJK fonts first where installed,
    no creation date or random ids (reproducible files), and no glyph warnings for the
    browser-drawn SVG text when no CJK font is installed (see the module)."""
    import matplotlib  # noqa: PLC0415

    rc = {"svg.fonttype": "none", "svg.hashsalt": "geoplan", "font.family": "sans-serif",
          "font.sans-serif": [*cjk_fonts(), "DejaVu Sans", "Arial", "sans-serif"],
          "axes.unicode_minus": False}
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        if not cjk_fonts():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from",
                                    category=UserWarning)
        yield
