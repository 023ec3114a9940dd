"""HTML for untrusted trajectory text: every fragment is escaped here, so a trajectory holding
`<script>`, `<img onerror=...>`, `[link](javascript:...)` or `<!-- -->` shows as the literal
text it is. Pages pass only these strings to `st.markdown(..., unsafe_allow_html=True)`.

`html.escape` makes the text inert as HTML; the markdown and Streamlit markup characters (links,
emphasis, `:color[...]`, `$math$`) and newlines become numeric entities as well, so each snippet
is one line of raw HTML that no markdown rule can reach.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cbm.trajectory import Step

_MARKUP = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_{}[]()!|~:$\n\r"})

TONES = {  # background, text
    "raises": ("#fde2e1", "#8a1c14"),
    "lowers": ("#dff3e4", "#1b5e20"),
    "neutral": ("#eceff1", "#37474f"),
    "flagged": ("#c62828", "#ffffff"),
    "block": ("#4a148c", "#ffffff"),
    "approve": ("#2e7d32", "#ffffff"),
    "escalate": ("#ef6c00", "#ffffff"),
    "open": ("#eceff1", "#37474f"),
    "claimed": ("#e3f2fd", "#0d47a1"),
}
BANDS = {  # the model's call on a risk, by the checkpoint's thresholds: background, text
    "allow": ("#e8f5e9", "#1b5e20"),
    "review": ("#ffb300", "#3e2700"),
    "block": ("#b71c1c", "#ffffff"),
}
SIGNS = {True: "+", False: "\u2212"}  # a concept's contribution raises or lowers the risk
MARKS = {True: "#ffd54f", False: "#b3e5fc"}  # evidence for / against the concept
FACT_MARK = "#e1bee7"  # the characters a fact was read from
KIND_LABELS = {"system": "system", "user": "user", "assistant": "assistant", "tool_call": "tool call",
               "tool_result": "tool result"}


def escape(text: Any) -> str:
    """Text as inert HTML: markup, markdown and newlines all as entities."""
    return html.escape(str(text), quote=True).translate(_MARKUP)


def paragraph(text: Any, muted: bool = False) -> str:
    color = "color:#607d8b;" if muted else ""
    return f'<div style="{color}margin:0 0 .4rem 0">{escape(text)}</div>'


def chip(text: Any, tone: str = "neutral", title: str | None = None, colors: tuple[str, str] | None = None) -> str:
    """A rounded label in one of the TONES (or explicit background and text colours)."""
    background, color = colors or TONES[tone]
    tip = f' title="{escape(title)}"' if title else ""
    return (f'<span{tip} style="display:inline-block;background:{background};color:{color};border-radius:.8rem;'
            f'padding:0 .55rem;margin:0 .25rem .2rem 0;font-size:.8rem;white-space:nowrap">{escape(text)}</span>')


def _merge(text: str, spans: Iterable[tuple[int, int, Any]]) -> list[tuple[int, int, list]]:
    """(start, end, payloads) spans cut to `text`, sorted, overlapping ones merged."""
    merged: list[list] = []
    for start, end, item in sorted(((max(0, int(s)), min(len(text), int(e)), w) for s, e, w in spans),
                                   key=lambda x: x[:2]):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].append(item)
        else:
            merged.append([start, end, [item]])
    return [(start, end, items) for start, end, items in merged]


def _marked(text: str, merged: Sequence[tuple[int, int, list]], title: Callable[[list], str],
            color: Callable[[list], str]) -> str:
    """`text` escaped, each merged span wrapped in a `<mark>` with `title(items)` and `color(items)`."""
    out, position = [], 0
    for start, end, items in merged:
        out.append(escape(text[position:start]))
        out.append(f'<mark title="{escape(title(items))}" style="background:{color(items)};padding:0 1px;'
                   f'border-radius:2px">{escape(text[start:end])}</mark>')
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def highlight(text: str, spans: Iterable[tuple[int, int, float]]) -> str:
    """`text` escaped, with each (start, end, score) character span wrapped in `<mark>`: amber
    where the text supports the concept (score > 0), blue where it argues against it.
    Overlapping spans merge, keeping the score of larger magnitude."""
    merged = [(start, end, [max(scores, key=abs)])
              for start, end, scores in _merge(text, sorted((int(s), int(e), float(w)) for s, e, w in spans))]
    return _marked(text, merged, lambda s: f"evidence {s[0]:+.3f}", lambda s: MARKS[s[0] > 0])


def fact_label(fact: Mapping[str, Any]) -> str:
    """One fact as a short line: `target: /var/lib/postgresql/data [data_directory] (bashlex)`."""
    tags = f" [{', '.join(fact.get('tags') or ())}]" if fact.get("tags") else ""
    return f"{fact['kind']}: {fact['value']}{tags} ({fact['parser']})"


def facts_text(text: str, facts: Iterable[Mapping[str, Any]]) -> str:
    """An action's text escaped, with the characters each fact was read from marked; a mark's
    title lists its facts. The text and the facts' values are untrusted: all of it is escaped."""
    spans = ((f["span"][0], f["span"][1], fact_label(f)) for f in facts)
    marked = _marked(text, _merge(text, spans), lambda labels: "\n".join(dict.fromkeys(labels)),
                     lambda labels: FACT_MARK)
    return (f'<div style="white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace;'
            f'font-size:.85rem;max-height:14rem;overflow:auto;border:1px solid #cfd8dc;border-radius:4px;'
            f'padding:.3rem .5rem">{marked}</div>')


def step(step: Step, index: int, chips: Sequence[str] = (), spans: Mapping[str, Iterable[tuple[int, int, float]]] | None = None,
         selected: bool = False) -> str:
    """One timeline entry: what kind of step, its tool, chips (already rendered), and its text
    with evidence marked (`spans` by field: "text" or "tool_name")."""
    spans = spans or {}
    title = escape(f"{index} · {KIND_LABELS[step.kind]}")
    if step.tool_name:
        title += " · " + highlight(step.tool_name, spans.get("tool_name", ()))
    if step.action_id is not None:
        title += escape(f" · action {step.action_id}")
    border = "3px solid #c62828" if selected else "1px solid #cfd8dc"
    text = highlight(step.text, spans.get("text", ())) if step.text else '<span style="color:#90a4ae">(empty)</span>'
    return (f'<div id="step-{int(index)}" class="cbm-step" style="border-left:{border};padding:.1rem 0 .1rem .6rem">'
            f'<div style="font-size:.8rem;color:#546e7a;margin-bottom:.2rem">{title}</div>'
            f'<div style="margin-bottom:.2rem">{"".join(chips)}</div>'
            f'<div style="white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace;'
            f'font-size:.85rem;max-height:28rem;overflow:auto">{text}</div></div>')


def band_chip(risk: float | None, band: str | None) -> str:
    """The risk, coloured by its band (allow, review, block)."""
    if risk is None or band is None:
        return chip("no actions")
    return chip(f"{band} {risk:.3f}", title=f"risk {risk:.3f}: {band}", colors=BANDS[band])


def legend(threshold: float, block: float) -> str:
    """What the band colours mean, with the loaded checkpoint's thresholds."""
    return "".join(chip(text, colors=BANDS[band]) for band, text in (
        ("allow", f"allow: risk < {threshold:.3f}"), ("review", f"review: {threshold:.3f} \u2264 risk < {block:.3f}"),
        ("block", f"block: risk \u2265 {block:.3f}")))


def evidence_link(step: int, text: Any) -> str:
    """A piece of evidence that links to (and outlines) its step in the timeline."""
    return (f'<div style="margin:0 0 .4rem 0"><a href="#step-{int(step)}" target="_self" '
            f'style="color:inherit">{escape(text)}</a></div>')


def scroll_to_step(step: int) -> str:
    """A script (run in a component's frame, on this app's own origin) that scrolls the page to
    timeline step `step`; only the step number comes from the run."""
    return ("<script>const target = window.parent.document.getElementById('step-%d');"
            "if (target) target.scrollIntoView({block: 'start'});</script>" % int(step))


def queue_row(row: Mapping[str, Any], names: Mapping[str, str], present: Mapping[str, float],
              band: str | None) -> str:
    """One line of the queue: risk band, id, its status, where it came from, and the concepts
    present in its riskiest action with the sign of what each did to the risk."""
    concepts = "".join(chip(f"{names.get(c['concept'], c['concept'])} {SIGNS[c['contribution'] > 0]}",
                            "raises" if c["contribution"] > 0 else "lowers",
                            f"p={c['probability']:.2f}, contribution {c['contribution']:+.2f}")
                       for c in row["top_concepts"] if c["probability"] >= present.get(c["concept"], 0.5))
    if row["status"] == "decided":
        status = chip(f"decided: {row['verdict']}", row["verdict"])
    elif row["status"] == "claimed":
        status = chip(f"claimed by {row['claimed_by']}", "claimed",
                      f"assigned by {row['assigned_by']}" if row.get("assigned_by") else None)
    else:
        status = chip("open", "open")
    where = f"{row['source']}:{row['line']}" if row["line"] is not None else row["source"]
    detail = f"{row['n_flagged']}/{row['n_actions']} actions flagged · tools: {', '.join(row['tools']) or 'none'} · {where}"
    return (f'<div style="line-height:1.5">{band_chip(row["risk"], band)}<b style="font-family:ui-monospace,monospace">'
            f'{escape(row["id"])}</b> {status}<br><span style="font-size:.8rem;color:#607d8b">{escape(detail)}</span>'
            f'<br>{concepts}</div>')
