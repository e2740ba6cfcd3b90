"""Griffe extension: read geoplan's reST markup in numpy docstrings as Markdown.

geoplan's docstrings are numpy style (sections parsed by griffe) with a few reStructuredText
constructs inside the prose, written for Sphinx-like readers:

* ``.. math::`` blocks and ``:math:`...``` roles become arithmatex's ``$$ ... $$`` blocks and
  ``$...$`` spans (rendered by ``pymdownx.arithmatex`` in generic mode, so the page shows the
  TeX untouched and needs no script from the internet);
* ``:func:``, ``:class:``, ``:mod:``, ``:data:``, ``:meth:``, ``:attr:``, ``:exc:``, ``:obj:``
  roles become *optional* cross-references (mkdocs-autorefs): a link when the object is on
  the site, plain code otherwise, never a warning;
* a paragraph ending in ``::`` (a reST literal block follows) ends in ``:``; the indented
  block after it is a Markdown code block as it stands.

The docstrings themselves are not changed: only what griffe hands to mkdocstrings.
Loaded by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_MATH_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<rest>.*)$")
_MATH_ROLE = re.compile(r":math:`(?P<tex>[^`]+)`")
_XREF_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|data|meth|attr|exc|obj|const):"
                        r"`(?P<target>[^`]+)`")
_LITERAL_INTRO = re.compile(r"(?<=\S)::[ \t]*$")
_LITERAL_ALONE = re.compile(r"^[ \t]*::[ \t]*$")


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _math_blocks(text: str) -> str:
    """``.. math::`` directives as ``$$`` blocks, one per blank-line-separated equation."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _MATH_DIRECTIVE.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent = m.group("indent")
        body = [m.group("rest")] if m.group("rest").strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip()
                                  or _indent_of(lines[i]) > len(indent)):
            body.append(lines[i])
            i += 1
        trailing = 0
        while body and not body[-1].strip():
            body.pop()
            trailing += 1
        equations = [eq.strip("\n") for eq in
                     re.split(r"\n[ \t]*\n", textwrap.dedent("\n".join(body)))]
        for k, eq in enumerate(e for e in equations if e.strip()):
            if k:
                out.append("")
            out.append(f"{indent}$$")
            out.extend(f"{indent}{ln}" for ln in eq.split("\n"))
            out.append(f"{indent}$$")
        out.extend([""] * max(trailing, 1 if i < len(lines) else 0))
    return "\n".join(out)


def _xref(match: re.Match[str], module: str | None) -> str:
    target = match.group("target").strip()
    shown = target
    if "<" in target and target.endswith(">"):          # :func:`title <target>`
        shown, target = (s.strip() for s in target[:-1].split("<", 1))
    elif target.startswith("~"):
        target = target[1:]
        shown = target.rsplit(".", 1)[-1]
    ident = target
    if module and not target.startswith("geoplan"):     # a name of the same module
        ident = f"{module}.{target}"
    return f'<autoref identifier="{ident}" optional>`{shown}`</autoref>'


def rst_to_markdown(text: str, module: str | None = None) -> str:
    """Rewrite a reST-flavoured docstring as the Markdown mkdocstrings renders.

    Parameters
    ----------
    text
        The docstring (already dedented by griffe).
    module
        The dotted path of the docstring's module, to qualify short cross-reference
        targets (``:func:`_cover_floor``` in ``geoplan.optimize.covering``).

    Returns
    -------
    str
        The same text with math, cross-references and literal-block markers in Markdown.
    """
    text = _math_blocks(text)
    text = _MATH_ROLE.sub(lambda m: f"${m.group('tex').strip()}$", text)
    text = _XREF_ROLE.sub(lambda m: _xref(m, module), text)
    lines = [("" if _LITERAL_ALONE.match(ln) else _LITERAL_INTRO.sub(":", ln))
             for ln in text.split("\n")]
    return "\n".join(lines)


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring griffe loads (see the module docstring)."""

    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any,
                    **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one."""
        if obj.docstring is None:
            return
        module = obj.module.path if obj.module is not obj else obj.path
        obj.docstring.value = rst_to_markdown(obj.docstring.value, module)
