"""Keep only the harmless part of an SVG before it is written into a page or a file.

Pipeline step *sanitize* (render → **sanitize** → write).  Graphviz copies
the model's names into its SVG; :mod:`sphinx_netviz.dot` quotes them so they
stay text, and this module makes sure of it whatever the DOT held: the SVG is
parsed (:mod:`xml.etree.ElementTree`, after refusing any document type
declaration that declares entities) and written again from an allowlist of
the elements and attributes Graphviz draws with.  Scripts, event handlers
(``on*``), ``style``, ``<foreignObject>``, ``<image>``, ``<use>`` and anything
unknown are dropped, and a link survives only when it points inside the
document (``#…``).  An SVG opened from the documentation's origin runs its
scripts, so the downloadable file is sanitised too (:func:`sanitized_svg_file`).

No Sphinx here, no network: the parser never fetches anything.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET

from .errors import RenderProblem

__all__ = ["ELEMENTS", "sanitize_svg", "sanitized_svg_file"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_SVG = "{" + SVG_NS + "}"
_XLINK = "{" + XLINK_NS + "}"

#: what ``dot -Tsvg`` draws with (our diagrams use all but ``desc`` and ``polyline``)
ELEMENTS = frozenset({"svg", "g", "title", "desc", "a", "polygon", "polyline", "path", "ellipse", "text"})

#: numbers, lengths, colours (``#8c8c8c``, ``transparent``), keywords, transforms, path data
_PLAIN = re.compile(r"[-\w\s.,()%#+]*")
_ID = re.compile(r"[A-Za-z_][\w.:-]*")
_CLASS = re.compile(r"[\w\s-]*")
_TARGET = re.compile(r"[\w-]+")
#: a same-document link; a scheme (``javascript:``, ``data:``, ``http:``) never starts with ``#``
_ANCHOR = re.compile(r"#[^\s\x00-\x1f\x7f]*")
_ANY = re.compile(r".*", re.S)

#: attribute (no namespace) → the values it may have
_ATTRIBUTES: dict[str, re.Pattern[str]] = {
    "id": _ID, "class": _CLASS, "target": _TARGET, "href": _ANCHOR,
    **{name: _PLAIN for name in (
        "transform", "viewBox", "width", "height", "points", "d", "x", "y", "cx", "cy", "rx", "ry",
        "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray",
        "text-anchor", "font-family", "font-size", "font-weight", "font-style", "text-decoration",
        "baseline-shift",
    )},
}
#: ``xlink:`` attributes: the tooltip is any text, a link only an anchor
_XLINK_ATTRIBUTES: dict[str, re.Pattern[str]] = {"title": _ANY, "href": _ANCHOR}

_XML_DECLARATION = re.compile(r"\A\ufeff?\s*<\?xml\s[^>]*\?>")
#: a document type declaration without an internal subset (Graphviz writes one, declaring nothing)
_DOCTYPE = re.compile(r"""<!DOCTYPE\s[^\[>"']*(?:(?:"[^"]*"|'[^']*')[^\[>"']*)*>""", re.I)
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY|ATTLIST|ELEMENT|NOTATION)", re.I)
_ATTRIBUTE_SPECIALS = re.compile(r'[&<>"\n\r\t]')
_ATTRIBUTE_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                      "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    return _ATTRIBUTE_SPECIALS.sub(lambda m: _ATTRIBUTE_ESCAPES[m.group()], value)


def _parse(svg: bytes | str) -> ET.Element:
    try:
        text = svg.decode("utf-8") if isinstance(svg, (bytes, bytearray)) else svg
    except UnicodeDecodeError as exc:
        raise RenderProblem(f"the SVG from Graphviz is damaged: it is not UTF-8 ({exc})") from None
    text = _DOCTYPE.sub("", _XML_DECLARATION.sub("", text, count=1))
    if _DECLARATION.search(text):
        raise RenderProblem("the SVG from Graphviz is damaged: it declares entities or a document type")
    parser = ET.XMLParser()
    try:
        parser.feed(text)
        root = parser.close()
    except ET.ParseError as exc:
        raise RenderProblem(f"the SVG from Graphviz is damaged: {exc}") from None
    if root.tag != _SVG + "svg":
        raise RenderProblem("the SVG from Graphviz is damaged: its root is not an <svg> element "
                            f"of the SVG namespace ({root.tag!r})")
    return root


def _attribute(name: str, value: str) -> str:
    """`` name="value"`` if the attribute and its value are allowed, else ''."""
    if name.startswith(_XLINK):
        written = "xlink:" + name[len(_XLINK):]
        allowed = _XLINK_ATTRIBUTES.get(name[len(_XLINK):])
    else:
        written = name
        allowed = _ATTRIBUTES.get(name)  # a namespaced name ("{…}x") is never in the table
    if allowed is None or not allowed.fullmatch(value):
        return ""
    return f' {written}="{_escape_attribute(value)}"'


def _allowed(element: ET.Element) -> bool:
    tag = element.tag
    return isinstance(tag, str) and tag.startswith(_SVG) and tag[len(_SVG):] in ELEMENTS


def sanitize_svg(svg: bytes | str) -> str:
    """The ``<svg>`` element alone (no XML declaration, doctype, comments or processing
    instructions), written again with only the allowed elements, attributes and links.

    Deterministic: the same input gives the same text.  Raises
    :class:`~sphinx_netviz.errors.RenderProblem` when the SVG does not parse.  The
    last few results are remembered by content: a page writer inlines a diagram's
    SVG and publishes it as a download, and pages share diagrams.
    """
    return _sanitize(svg.encode("utf-8", "surrogatepass") if isinstance(svg, str) else bytes(svg))


@functools.lru_cache(maxsize=16)
def _sanitize(svg: bytes) -> str:
    root = _parse(svg)
    out: list[str] = []
    written: dict[tuple[str, str], str] = {}  # colours, fonts, classes repeat: check each once

    def attributes(element: ET.Element) -> str:
        parts = []
        for item in element.attrib.items():
            text = written.get(item)
            if text is None:
                text = written[item] = _attribute(*item)
            parts.append(text)
        return "".join(parts)

    # (element, None) opens an element, (element, "") closes it, (None, text) is text
    stack: list[tuple[ET.Element | None, str | None]] = [(root, None)]
    while stack:
        element, text = stack.pop()
        if element is None:
            out.append(_escape_text(text))  # type: ignore[arg-type]
            continue
        name = element.tag[len(_SVG):]
        if text is not None:  # closing
            out.append(f"</{name}>")
            continue
        attrs = attributes(element)
        if element is root:
            attrs += f' xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"'
        if not element.text and not len(element):
            out.append(f"<{name}{attrs}/>")
            continue
        out.append(f"<{name}{attrs}>")
        if element.text:
            out.append(_escape_text(element.text))
        stack.append((element, ""))
        for child in reversed(element):
            if child.tail:
                stack.append((None, child.tail))
            if _allowed(child):
                stack.append((child, None))
    return "".join(out)


def sanitized_svg_file(svg: bytes | str) -> bytes:
    """:func:`sanitize_svg` as a standalone ``.svg`` file (with an XML declaration), UTF-8."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            + sanitize_svg(svg) + "\n").encode("utf-8")
