"""A matplotlib figure as a small inline SVG: text kept as text, sized by the viewport, crisp when zoomed."""

from __future__ import annotations

import contextlib
import io
import re
from collections import Counter
from html import escape

import matplotlib

# Fonts every phone and PC has that carry Vietnamese tone marks: Roboto and Noto Sans (Android), Helvetica
# Neue (iOS, macOS), Segoe UI and Arial (Windows), DejaVu Sans (Linux, and what matplotlib measures with).
# DejaVu is the widest of them, so a label laid out for it never overflows in the font the phone picks.
FONT_STACK = "Roboto, 'Noto Sans', 'Helvetica Neue', 'Segoe UI', Arial, 'DejaVu Sans', sans-serif"

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_FAMILY = re.compile(r"font-family: [^;\"]*;?\s*")
_SIZE_ATTRS = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')
_LONG_DECIMAL = re.compile(r"(\d\.\d)\d+")
_ATTR = re.compile(r'(\s(?:d|x|y|x1|x2|y1|y2|points|transform|width|height)=")([^"]*)(")')
_BLANKS = re.compile(r">\s+<")
_GROUP_ID = re.compile(r'(<g\b[^>]*?) id="[^"]*"')  # "figure_1", "axes_1": alike in every chart, used by none


def _short_numbers(match: re.Match) -> str:
    """Coordinates to 1/10 of a point (a 300-dpi print resolves 1/4 pt): a third of the file gone, nothing seen."""
    return match.group(1) + _LONG_DECIMAL.sub(r"\1", match.group(2)) + match.group(3)


_STYLE = re.compile(r' style="([^"]*)"')
_GROUP_TAG = re.compile(r"<g>|<g\b[^>]*>|</g>")  # <g/> and <g …/> included: they open nothing


def _style_classes(svg: str, prefix: str) -> str:
    """Every style that several elements repeat (a grid line's, a marker's) written once as a class in the
    SVG's own <style>; matplotlib writes it out on each element, which is a third of a chart's bytes."""
    head = svg.index(">") + 1  # the root <svg> keeps its own style (and its <title> stays its first child)
    if svg.startswith("<title>", head):
        head = svg.index("</title>", head) + len("</title>")
    counts = Counter(_STYLE.findall(svg, head))
    names = {st: f"{prefix}{k}" for k, st in enumerate(st for st, n in counts.most_common() if n > 1)}
    if not names:
        return svg
    body = _STYLE.sub(lambda m: f' class="{names[m[1]]}"' if m[1] in names else m[0], svg[head:])
    css = "".join(f".{name}{{{st}}}" for st, name in names.items())
    return f"{svg[:head]}<style>{css}</style>{body}"


def _drop_bare_groups(svg: str) -> str:
    """<g> elements without attributes group nothing that shows: dropped with their </g>."""
    out, stack, last = [], [], 0
    for m in _GROUP_TAG.finditer(svg):
        out.append(svg[last:m.start()])
        last = m.end()
        tag = m.group()
        if tag.endswith("/>"):  # <g/>, <g id="…"/> once its id is gone: an empty group, nothing to close
            continue
        if tag == "</g>":
            if stack.pop():
                out.append(tag)
        else:
            keep = tag != "<g>"
            stack.append(keep)
            if keep:
                out.append(tag)
    out.append(svg[last:])
    return "".join(out)


@contextlib.contextmanager
def _laid_out(figure):
    """A figure laid out once by `tight_layout()` keeps a placeholder layout engine, for which savefig draws the
    whole figure once more before it draws it into the file (a draw that lays nothing out: a third of a chart's
    time). Saved without it, then given back."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = figure.get_layout_engine()
    if not isinstance(engine, PlaceHolderLayoutEngine) or matplotlib.rcParams["figure.autolayout"] or \
            matplotlib.rcParams["figure.constrained_layout.use"]:  # (None would then mean a new engine)
        yield
        return
    figure.set_layout_engine(None)
    try:
        yield
    finally:
        figure.set_layout_engine(engine)


def figure_svg(figure, alt: str = "", salt: str = "kpi", bbox_inches=None) -> str:
    """The figure as an <svg> element to put inline in HTML: no XML prolog or metadata, one font stack for the
    whole chart instead of one per label, `viewBox` kept and the fixed size turned into a natural width in
    CSS pixels that shrinks to the page (`max-width: 100%`); `alt` becomes its <title> and aria-label.
    `salt` keeps the ids of clip paths and markers apart between the charts of one page."""
    buf = io.StringIO()
    rc = {"svg.fonttype": "none", "svg.hashsalt": salt, "svg.id": None}
    with matplotlib.rc_context(rc), _laid_out(figure):
        figure.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches=bbox_inches)
    svg = _PROLOG.sub("", buf.getvalue(), count=1)
    svg = _METADATA.sub("", svg)
    svg = _FAMILY.sub("", svg)
    svg = _GROUP_ID.sub(r"\1", svg)
    match = _SIZE_ATTRS.search(svg)
    if match:
        width = round(float(match.group(2)) * 4 / 3)  # pt -> CSS px
        label = f' role="img" aria-label="{escape(alt)}"' if alt else ""
        # As wide as its box (never wider than the page: max-width 100% of a box that is itself at most the
        # page's width) up to its natural width, and no height: the viewBox gives the shape. A width in CSS,
        # not only max-width, because WeasyPrint derives the height from a CSS width only.
        # a function, not a template: the alt text is the plan's and the data's words, and a backslash in them
        # must stay a backslash, not become a regular-expression escape
        svg = _SIZE_ATTRS.sub(
            lambda m: (f'<svg{m.group(1)} width="{width}" class="chart"{label} '
                       f'style="width: 100%; max-width: min(100%, {width}px); height: auto; font-family: {FONT_STACK}"'),
            svg, count=1)
    svg = _ATTR.sub(_short_numbers, svg)
    svg = _BLANKS.sub("><", svg).replace(" \n", " ").replace("\n", " ")
    svg = _drop_bare_groups(svg)
    svg = _style_classes(svg, re.sub(r"\W", "", salt) + "_")
    if alt:
        svg = re.sub(r"(<svg\b[^>]*>)", lambda m: m.group(1) + f"<title>{escape(alt)}</title>", svg, count=1)
    return svg.strip()


def panel_svgs(figure, axes: list, titles: list[str], salt: str = "kpi", pad: float = 0.05) -> list[str]:
    """Each of `axes` cut out of the figure as an SVG of its own, with its title, ticks and labels (the other
    panels and the figure's legends hidden while it is saved), titled by `titles`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    canvas = figure.canvas if hasattr(figure.canvas, "get_renderer") else FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer).transformed(figure.dpi_scale_trans.inverted()) for ax in axes]
    shown = {a: a.get_visible() for a in figure.axes}
    legends = {lg: lg.get_visible() for lg in figure.legends}
    out = []
    try:
        for lg in legends:
            lg.set_visible(False)
        for k, (ax, box, title) in enumerate(zip(axes, boxes, titles)):
            for other in figure.axes:
                other.set_visible(other is ax)
            cut = Bbox.from_extents(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad)
            out.append(figure_svg(figure, title, salt=f"{salt}-{k}", bbox_inches=cut))
    finally:
        for a, visible in shown.items():
            a.set_visible(visible)
        for lg, visible in legends.items():
            lg.set_visible(visible)
    return out
