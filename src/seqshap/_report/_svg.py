"""A matplotlib figure as inline SVG for HTML: hover titles, unique ids, no external refs.

Text stays text (``svg.fonttype = "none"``) so it can be read and searched; matplotlib escapes it
and the round trip through ElementTree escapes it again on output, so a label such as
``<img src=x onerror=alert(1)>`` can only ever be character data.
"""

from __future__ import annotations

import io
import itertools
import re
import xml.etree.ElementTree as ET
from typing import Any

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_FIGURE_COUNTER = itertools.count()
_URL_RE = re.compile(r"url\(#([^)]+)\)")


def figure_to_svg(fig: Any, *, label: str) -> str:
    """Inline ``<svg>`` markup of ``fig`` (responsive, ids prefixed, tooltips as ``<title>``)."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with plt.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "seqshap", "svg.image_inline": True}
    ):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    root = ET.fromstring(buf.getvalue())
    tips: dict[str, str] = getattr(fig, "_seqshap_tooltips", {}) or {}
    prefix = f"f{next(_FIGURE_COUNTER)}-"
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}metadata":
                parent.remove(child)
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    for el in root.iter():
        gid = el.get("id")
        if gid in tips:
            title = ET.Element(f"{{{SVG_NS}}}title")
            title.text = tips[gid]
            el.insert(0, title)
            el.set("class", "tip")
        if gid:
            el.set("id", prefix + gid)
        href = el.attrib.pop(XLINK_HREF, None)
        if href is not None:  # SVG 2 href: no xlink namespace needed inside HTML
            el.set(
                "href",
                "#" + prefix + href[1:] if href.startswith("#") and href[1:] in ids else href,
            )
        for attr in ("clip-path", "mask", "filter", "style", "fill", "stroke"):
            val = el.get(attr)
            if val and "url(#" in val:
                el.set(
                    attr,
                    _URL_RE.sub(
                        lambda m: (
                            f"url(#{prefix}{m.group(1)})" if m.group(1) in ids else m.group(0)
                        ),
                        val,
                    ),
                )
    width = root.get("width", "")
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    root.set("class", "plot")
    root.set("role", "img")
    root.set("aria-label", label)
    if width.endswith("pt"):  # never wider than drawn: small plots keep their font size
        root.set("style", f"max-width:{float(width[:-2]) * 4 / 3:.0f}px")
    root.set("preserveAspectRatio", "xMidYMid meet")
    aria = ET.Element(f"{{{SVG_NS}}}title")
    aria.text = label
    root.insert(0, aria)
    ns = f"{{{SVG_NS}}}"
    for el in root.iter():  # plain tag names; the HTML parser puts <svg> content in SVG's namespace
        if isinstance(el.tag, str) and el.tag.startswith(ns):
            el.tag = el.tag[len(ns) :]
    root.set("xmlns", SVG_NS)
    return ET.tostring(root, encoding="unicode")


def figure_to_png_data_uri(fig: Any, *, dpi: int = 110) -> str:
    """``data:image/png;base64,...`` of ``fig``."""
    import base64

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
