"""A workflow drawn as an SVG diagram: states in layers, transitions as labelled arrows.

Administrators edit workflows as lists of states and transitions; the picture shows what those
lists mean — where a submission starts, where it can go, where it ends. It is drawn here, on
the server, as a plain SVG string: no browser library, no external service, and the page's
strict Content-Security-Policy is untouched (only SVG presentation attributes, no ``style``).

The layout is deliberately simple and deterministic (the same definition always gives the same
picture, so it can be tested):

* states are placed in layers by breadth-first distance from the initial state (a state no
  transition reaches goes into one extra layer at the bottom), in definition order within a
  layer, each layer centred;
* a transition to a lower layer is a straight arrow from the bottom of its source to the top
  of its target; every other one (upwards, sideways, to itself) is a curve on the right, so it
  never runs through the boxes;
* transitions between the same two states share one arrow with their labels joined;
* the initial state gets a filled dot with an arrow, final states a double border.

Every text that comes from the definition is XML-escaped (and stripped of characters XML 1.0
cannot carry), so a label like ``<script>`` is drawn as text and the result always parses.
Pure: no I/O, no globals.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine.model import State, Transition, WorkflowDefinition
from engine.text import Text, localize

__all__ = ["DiagramLayout", "NodeBox", "layout_workflow", "workflow_svg"]

FONT_SIZE = 13
SMALL_FONT_SIZE = 11
CHAR_WIDTH = 7.4
"""Average advance of a character at ``FONT_SIZE`` in a sans-serif font (an estimate: the
server cannot measure text, so boxes are sized generously)."""
NODE_HEIGHT = 48
MIN_NODE_WIDTH = 110
H_GAP = 48
V_GAP = 86
MARGIN = 24
TOP = 44
"""Room above the first layer for the initial-state marker."""
LOOP_REACH = 56
"""How far right of the boxes a curved (upward or sideways) arrow bulges."""
INK = "#1a1a1a"
FINAL_FILL = "#eef5ee"
STATE_FILL = "#f4f7fb"
EDGE_INK = "#44546a"

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class NodeBox:
    """Where one state is drawn (top-left corner, size) and in which layer."""

    state: str
    layer: int
    x: float
    y: float
    width: float
    height: float

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def right(self) -> float:
        return self.x + self.width


@dataclass(frozen=True, slots=True)
class _Edge:
    source: str
    target: str
    transitions: tuple[Transition, ...]


@dataclass(frozen=True, slots=True)
class DiagramLayout:
    """The computed picture before it is written out: boxes by state id, overall size."""

    boxes: Mapping[str, NodeBox]
    width: float
    height: float
    layers: tuple[tuple[str, ...], ...]


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _esc(text: str) -> str:
    """Text for an XML text node or a double-quoted attribute value."""
    return (
        _clean(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _words(text: Text, language: str | None, fallback: str) -> str:
    if not text:
        return fallback
    default = language or next(iter(text))
    return localize(text, language or default, default) or fallback


def _text_width(text: str, size: int = FONT_SIZE) -> float:
    return len(text) * CHAR_WIDTH * size / FONT_SIZE


def _layers(states: Sequence[State], initial: str, transitions: Sequence[Transition]) -> list[
    list[str]
]:
    """States grouped by breadth-first distance from ``initial``; unreachable ones last."""
    ids = [s.id for s in states]
    known = set(ids)
    following: dict[str, list[str]] = {sid: [] for sid in ids}
    for transition in transitions:
        if transition.to not in known:
            continue
        for source in transition.sources:
            if source in known and transition.to not in following[source]:
                following[source].append(transition.to)
    depth: dict[str, int] = {}
    if initial in known:
        depth[initial] = 0
        queue = deque([initial])
        while queue:
            current = queue.popleft()
            for nxt in following[current]:
                if nxt not in depth:
                    depth[nxt] = depth[current] + 1
                    queue.append(nxt)
    deepest = max(depth.values(), default=-1)
    layers: list[list[str]] = [[] for _ in range(deepest + 1)]
    # Within a layer: the order of discovery would depend on transition order; definition order
    # is what the administrator sees in the editor's list, so the picture follows it.
    for sid in ids:
        if sid in depth:
            layers[depth[sid]].append(sid)
    unreached = [sid for sid in ids if sid not in depth]
    if unreached:
        layers.append(unreached)
    return layers


def layout_workflow(workflow: WorkflowDefinition, language: str | None = None) -> DiagramLayout:
    """Box positions for every state (see the module docstring for the rules)."""
    layers = _layers(workflow.states, workflow.initial, workflow.transitions)
    by_id = {s.id: s for s in workflow.states}
    widths = {
        sid: max(
            MIN_NODE_WIDTH,
            _text_width(_words(by_id[sid].label, language, sid)) * 1.1 + 32,  # bold
            _text_width(sid, SMALL_FONT_SIZE) + 32,
        )
        for sid in by_id
    }
    layer_widths = [sum(widths[s] for s in layer) + H_GAP * (len(layer) - 1) for layer in layers]
    inner_width = max(layer_widths, default=MIN_NODE_WIDTH)
    boxes: dict[str, NodeBox] = {}
    for index, layer in enumerate(layers):
        x = MARGIN + (inner_width - layer_widths[index]) / 2
        y = TOP + index * (NODE_HEIGHT + V_GAP)
        for sid in layer:
            boxes[sid] = NodeBox(sid, index, x, y, widths[sid], NODE_HEIGHT)
            x += widths[sid] + H_GAP
    width = MARGIN * 2 + inner_width
    height = TOP + len(layers) * (NODE_HEIGHT + V_GAP) - V_GAP + MARGIN
    return DiagramLayout(boxes, width, height, tuple(tuple(layer) for layer in layers))


def _edge_label(transition: Transition, language: str | None) -> str:
    label = _words(transition.label, language, transition.id)
    return f"{label} [?]" if transition.when is not None else label


def _edges(workflow: WorkflowDefinition) -> list[_Edge]:
    """One arrow per (source, target) pair, in the order the transitions are defined."""
    grouped: dict[tuple[str, str], list[Transition]] = {}
    known = {s.id for s in workflow.states}
    for transition in workflow.transitions:
        for source in transition.sources:
            if source in known and transition.to in known:
                grouped.setdefault((source, transition.to), []).append(transition)
    return [_Edge(s, t, tuple(ts)) for (s, t), ts in grouped.items()]


def _spread(box: NodeBox, index: int, count: int) -> float:
    """The x of the ``index``-th of ``count`` arrows leaving or entering ``box`` side by side."""
    return box.x + box.width * (index + 1) / (count + 1)


_VOCABULARY: Mapping[str, Mapping[str, str]] = {
    "de": {"roles": "Rollen", "comment": "Kommentar", "required": "Pflicht",
           "optional": "freiwillig", "none": "keiner", "guarded": "nur wenn die Bedingung gilt"},
    "en": {"roles": "roles", "comment": "comment", "required": "required",
           "optional": "optional", "none": "none", "guarded": "only when its condition holds"},
}


def _describe_transition(transition: Transition, language: str | None) -> str:
    """The tooltip of an arrow: id, label, roles, comment policy, guard (German unless en)."""
    words = _VOCABULARY["en" if (language or "").startswith("en") else "de"]
    parts = [f"{transition.id}: {_words(transition.label, language, transition.id)}"]
    parts.append(f"{words['roles']}: " + ", ".join(transition.roles))
    parts.append(f"{words['comment']}: {words[transition.comment]}")
    if transition.when is not None:
        parts.append(words["guarded"])
    return " – ".join(parts)


@dataclass(frozen=True, slots=True)
class _Arrow:
    """One arrow's geometry: the SVG path and where (and how far right) its label goes."""

    edge: _Edge
    path: str
    label_x: float
    label_y: float
    label: str

    @property
    def extent(self) -> float:
        return self.label_x + _text_width(self.label, SMALL_FONT_SIZE)


def _arrows(
    workflow: WorkflowDefinition, boxes: Mapping[str, NodeBox], language: str | None
) -> list[_Arrow]:
    edges = _edges(workflow)
    outgoing: dict[str, list[_Edge]] = {}
    incoming: dict[str, list[_Edge]] = {}
    below: dict[int, int] = {}
    for edge in edges:
        if boxes[edge.target].layer > boxes[edge.source].layer:
            outgoing.setdefault(edge.source, []).append(edge)
            incoming.setdefault(edge.target, []).append(edge)
    arrows: list[_Arrow] = []
    backwards = 0
    for edge in edges:
        start, end = boxes[edge.source], boxes[edge.target]
        label = ", ".join(_edge_label(t, language) for t in edge.transitions)
        if end.layer > start.layer:
            outs, ins = outgoing[edge.source], incoming[edge.target]
            rank = outs.index(edge)
            x1, y1 = _spread(start, rank, len(outs)), start.bottom
            x2, y2 = _spread(end, ins.index(edge), len(ins)), end.y - 2
            # Labels of arrows leaving one box alternate in height so neighbours don't collide.
            t = (0.5, 0.72, 0.28)[rank % 3]
            if end.layer - start.layer > 1:  # skipping a layer: bow out, don't cross boxes
                bow = -LOOP_REACH if x2 <= x1 else LOOP_REACH
                path = (f"M{_num(x1)},{_num(y1)} C{_num(x1 + bow)},{_num(y1 + 40)} "
                        f"{_num(x2 + bow)},{_num(y2 - 40)} {_num(x2)},{_num(y2)}")
                lx = x1 + (x2 - x1) * t + bow * 0.75
            else:
                path = f"M{_num(x1)},{_num(y1)} L{_num(x2)},{_num(y2)}"
                lx = x1 + (x2 - x1) * t + 6
            arrows.append(_Arrow(edge, path, lx, y1 + (y2 - y1) * t + 4, label))
        elif edge.source == edge.target:  # a loop on the right of the box
            x, y1, y2 = start.right, start.y + 12, start.bottom - 12
            far = x + 34
            path = (f"M{_num(x)},{_num(y1)} C{_num(far)},{_num(y1 - 10)} "
                    f"{_num(far)},{_num(y2 + 10)} {_num(x + 2)},{_num(y2)}")
            arrows.append(_Arrow(edge, path, far + 2, start.y + start.height / 2 + 4, label))
        elif end.layer == start.layer:  # sideways: a U under the layer, deeper for longer spans
            lane = below.get(start.layer, 0)
            below[start.layer] = lane + 1
            depth = 16 + 14 * (lane % 3)
            x1 = start.centre_x + (8 if end.x > start.x else -8)
            x2 = end.centre_x + (-8 if end.x > start.x else 8)
            y = start.bottom
            path = (f"M{_num(x1)},{_num(y)} C{_num(x1)},{_num(y + depth * 1.3)} "
                    f"{_num(x2)},{_num(y + depth * 1.3)} {_num(x2)},{_num(y + 2)}")
            arrows.append(_Arrow(edge, path, min(x1, x2) + abs(x2 - x1) * 0.6,
                                 y + depth + 8, label))
        else:  # back up to an earlier layer: a curve bowing out to the right
            reach = LOOP_REACH + 16 * (backwards % 4)
            backwards += 1
            x1, y1 = start.right - 10, start.y
            x2, y2 = end.right - 10, end.bottom + 2
            far = max(x1, x2) + reach
            path = (f"M{_num(x1)},{_num(y1)} C{_num(far)},{_num(y1 - 30)} "
                    f"{_num(far)},{_num(y2 + 30)} {_num(x2)},{_num(y2)}")
            arrows.append(_Arrow(edge, path, far - reach * 0.2, (y1 + y2) / 2, label))
    return arrows


def workflow_svg(
    workflow: WorkflowDefinition,
    language: str | None = None,
    *,
    id_prefix: str = "wf",
    title: str | None = None,
) -> str:
    """The diagram as a standalone ``<svg>`` element (fit for inline HTML and for files).

    ``language`` picks the labels (default: the first language each text has); ``id_prefix``
    keeps element ids unique when several diagrams share a page; ``title`` is the accessible
    name (default: the workflow's title).
    """
    layout = layout_workflow(workflow, language)
    boxes = layout.boxes
    prefix = re.sub(r"[^A-Za-z0-9_-]", "", id_prefix) or "wf"
    name = title if title is not None else _words(workflow.title, language, workflow.id)
    arrows = _arrows(workflow, boxes, language)
    width = max([layout.width, *(a.extent + MARGIN for a in arrows)])
    height = layout.height + (40 if any(a.label_y > layout.height - MARGIN for a in arrows)
                              else 0)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" '
        f'id="{prefix}-diagram" role="img" aria-labelledby="{prefix}-title" '
        f'width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" '
        f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
        f'<title id="{prefix}-title">{_esc(name)}</title>',
        "<defs>",
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{EDGE_INK}"/></marker>',
        "</defs>",
    ]
    out += _initial_marker(workflow, boxes, prefix)
    out += [_edge_svg(a, prefix, language) for a in arrows]
    for state in workflow.states:
        if state.id in boxes:
            out.append(_state_svg(state, boxes[state.id], workflow.initial, language))
    out.append("</svg>")
    return "\n".join(out)


def _edge_svg(arrow: _Arrow, prefix: str, language: str | None) -> str:
    edge = arrow.edge
    ids = " ".join(t.id for t in edge.transitions)
    described = "; ".join(_describe_transition(t, language) for t in edge.transitions)
    return (
        f'<g class="transition" data-from="{_esc(edge.source)}" data-to="{_esc(edge.target)}" '
        f'data-transitions="{_esc(ids)}">'
        f"<title>{_esc(edge.source)} → {_esc(edge.target)}: {_esc(described)}</title>"
        f'<path d="{arrow.path}" fill="none" stroke="{EDGE_INK}" stroke-width="1.5" '
        f'marker-end="url(#{prefix}-arrow)"/>'
        f'<text x="{_num(arrow.label_x)}" y="{_num(arrow.label_y)}" '
        f'font-size="{SMALL_FONT_SIZE}" fill="{INK}" stroke="#ffffff" stroke-width="3" '
        f'paint-order="stroke">{_esc(arrow.label)}</text>'
        "</g>"
    )


def _state_svg(state: State, box: NodeBox, initial: str, language: str | None) -> str:
    label = _words(state.label, language, state.id)
    kind = "final" if state.final else ("initial" if state.id == initial else "intermediate")
    parts = [
        f'<g class="state state-{kind}" data-state="{_esc(state.id)}" '
        f'data-final="{"true" if state.final else "false"}" data-layer="{box.layer}">',
        f"<title>{_esc(label)} ({_esc(state.id)})</title>",
        f'<rect class="state-box" x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.width)}" '
        f'height="{_num(box.height)}" rx="12" ry="12" '
        f'fill="{FINAL_FILL if state.final else STATE_FILL}" stroke="{INK}" stroke-width="1.5"/>',
    ]
    if state.final:
        parts.append(
            f'<rect class="state-box-inner" x="{_num(box.x + 4)}" y="{_num(box.y + 4)}" '
            f'width="{_num(box.width - 8)}" height="{_num(box.height - 8)}" rx="9" ry="9" '
            f'fill="none" stroke="{INK}" stroke-width="1"/>'
        )
    parts.append(
        f'<text x="{_num(box.centre_x)}" y="{_num(box.y + 21)}" text-anchor="middle" '
        f'fill="{INK}" font-weight="600">{_esc(label)}</text>'
    )
    parts.append(
        f'<text x="{_num(box.centre_x)}" y="{_num(box.y + 37)}" text-anchor="middle" '
        f'fill="#555555" font-size="{SMALL_FONT_SIZE}">{_esc(state.id)}</text>'
    )
    parts.append("</g>")
    return "".join(parts)


def _initial_marker(
    workflow: WorkflowDefinition, boxes: Mapping[str, NodeBox], prefix: str
) -> Iterable[str]:
    box = boxes.get(workflow.initial)
    if box is None:
        return []
    cx = box.centre_x
    return [
        f'<g class="initial-marker" data-to="{_esc(workflow.initial)}">'
        f'<circle cx="{_num(cx)}" cy="{_num(TOP - 30)}" r="6" fill="{INK}"/>'
        f'<path d="M{_num(cx)},{_num(TOP - 24)} L{_num(cx)},{_num(box.y - 2)}" '
        f'stroke="{INK}" stroke-width="1.5" marker-end="url(#{prefix}-arrow)"/>'
        "</g>"
    ]
