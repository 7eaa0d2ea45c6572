"""A self-contained HTML report of a scoring run: inline SVG charts, no scripts, no network.

Charts analysts would otherwise draw by hand: stance share by month, by
spokesperson and by ministry; the most frequent hedge and denial phrasings (from
the evidence spans); and the most confidently hedged answers, linked to their
source file and turn.
"""
from __future__ import annotations

import html
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from .labels import LABELS

COLORS = {"confirm": "#2e7d32", "deny": "#c62828", "hedge": "#f9a825"}
_E = html.escape


def _stacked_bars(groups: Sequence[Tuple[str, Counter]], title: str, css_id: str, width: int = 900) -> str:
    """Horizontal 100%-stacked bars, one per group, with counts."""
    if not groups:
        return f'<section id="{css_id}"><h2>{_E(title)}</h2><p class="empty">No labelled answers.</p></section>'
    label_w, bar_w, row_h = 190, width - 190 - 70, 22
    height = row_h * len(groups) + 30
    parts = [f'<svg class="chart" role="img" aria-label="{_E(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (name, counts) in enumerate(groups):
        y = i * row_h + 4
        total = sum(counts.values()) or 1
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="axis">{_E(name[:28])}</text>')
        x = label_w
        for lab in LABELS:
            w = bar_w * counts.get(lab, 0) / total
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{COLORS[lab]}">'
                             f'<title>{_E(name)}: {lab} {counts.get(lab, 0)} of {total}</title></rect>')
                if w > 34:
                    parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 12}" text-anchor="middle" class="in">'
                                 f'{100 * counts.get(lab, 0) / total:.0f}%</text>')
            x += w
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 15}" class="axis">n={total}</text>')
    legend_y = height - 8
    for k, lab in enumerate(LABELS):
        parts.append(f'<rect x="{label_w + k * 110}" y="{legend_y - 10}" width="12" height="12" fill="{COLORS[lab]}"/>'
                     f'<text x="{label_w + k * 110 + 16}" y="{legend_y}" class="axis">{lab}</text>')
    parts.append("</svg>")
    return f'<section id="{css_id}"><h2>{_E(title)}</h2>{"".join(parts)}</section>'


def _phrase_bars(counter: Counter, label: str, title: str, css_id: str, top: int = 12) -> str:
    items = counter.most_common(top)
    if not items:
        return f'<section id="{css_id}"><h2>{_E(title)}</h2><p class="empty">No {label} evidence.</p></section>'
    width, label_w, row_h = 900, 330, 20
    most = items[0][1]
    height = row_h * len(items) + 6
    parts = [f'<svg class="chart" role="img" aria-label="{_E(title)}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, (phrase, n) in enumerate(items):
        y = i * row_h + 3
        w = (width - label_w - 60) * n / most
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" class="axis">“{_E(phrase[:48])}”</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h - 5}" fill="{COLORS[label]}"/>'
                     f'<text x="{label_w + w + 5:.1f}" y="{y + 13}" class="axis">{n}</text>')
    parts.append("</svg>")
    return f'<section id="{css_id}"><h2>{_E(title)}</h2>{"".join(parts)}</section>'


def _link(source: str, out_dir: Path) -> str:
    if source in (None, "-"):
        return "stdin"
    try:
        return Path(os.path.relpath(Path(source).resolve(), out_dir.resolve())).as_posix()
    except ValueError:
        return Path(source).resolve().as_uri()


def build_report(rows: List[dict], out_dir: Path = Path("."), title: str = "stancekit report") -> str:
    """The report page for scored rows (as written by ``stancekit score``)."""
    ok = [r for r in rows if r.get("label") in LABELS]
    by_month: Dict[str, Counter] = defaultdict(Counter)
    by_speaker: Dict[str, Counter] = defaultdict(Counter)
    by_ministry: Dict[str, Counter] = defaultdict(Counter)
    phrases = {"hedge": Counter(), "deny": Counter()}
    for r in ok:
        by_month[(r.get("date") or "")[:7] or "undated"][r["label"]] += 1
        by_speaker[r.get("spokesperson") or "unknown"][r["label"]] += 1
        by_ministry[r.get("ministry") or "unknown"][r["label"]] += 1
        if r["label"] in phrases:
            for e in r.get("evidence") or []:
                if e.get("label") == r["label"]:
                    # "No." and "no" are one phrasing
                    phrase = " ".join(e["text"].lower().split()).strip(" .,;:!?")
                    if phrase:
                        phrases[r["label"]][phrase] += 1
    months = sorted(by_month.items(), key=lambda kv: (kv[0] == "undated", kv[0]))
    speakers = sorted(by_speaker.items(), key=lambda kv: -sum(kv[1].values()))[:15]
    ministries = sorted(by_ministry.items(), key=lambda kv: -sum(kv[1].values()))
    hedged = sorted((r for r in ok if r["label"] == "hedge"), key=lambda r: -r["scores"]["hedge"])[:20]
    totals = Counter(r["label"] for r in ok)
    errors = len(rows) - len(ok)
    dates = sorted(r["date"] for r in ok if r.get("date"))
    table_rows = "".join(
        f'<tr><td>{r["scores"]["hedge"]:.2f}</td><td>{_E(r.get("spokesperson") or "")}</td>'
        f'<td>{_E(r.get("date") or "")}</td><td>{_E((r.get("question") or "")[:160])}</td>'
        f'<td>{_E(r["answer"][:240])}{"…" if len(r["answer"]) > 240 else ""}</td>'
        f'<td><a href="{_E(_link(r["source"], out_dir))}">{_E(Path(str(r["source"])).name)}</a> turn {r["turn"]}</td></tr>'
        for r in hedged)
    summary = (f"{len(rows)} answers · confirm {totals['confirm']} · deny {totals['deny']} · hedge {totals['hedge']}"
               + (f" · {errors} not classified" if errors else "")
               + (f" · {dates[0]} to {dates[-1]}" if dates else ""))
    model = next((r.get("model") for r in ok if r.get("model")), None)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_E(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 960px; color: #222; }}
h1 {{ font-size: 22px; margin-bottom: 4px; }} h2 {{ font-size: 16px; margin: 28px 0 8px; }}
.summary {{ color: #555; }} .axis {{ font-size: 12px; fill: #333; }} .in {{ font-size: 11px; fill: #fff; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 4px 6px; vertical-align: top; text-align: left; }}
th {{ background: #f4f4f4; }} .empty {{ color: #888; }}
</style></head><body>
<h1>{_E(title)}</h1>
<p class="summary">{_E(summary)}{(" · model " + _E(model["name"]) + " v" + _E(str(model["version"]))) if model else ""}</p>
{_stacked_bars(months, "Stance share by month", "by-month")}
{_stacked_bars(speakers, "Stance share by spokesperson", "by-spokesperson")}
{_stacked_bars(ministries, "Stance share by ministry", "by-ministry")}
{_phrase_bars(phrases["hedge"], "hedge", "Most frequent hedge phrasings", "hedge-phrases")}
{_phrase_bars(phrases["deny"], "deny", "Most frequent denial phrasings", "deny-phrases")}
<section id="hedged"><h2>Most confidently hedged answers</h2>
<table><thead><tr><th>hedge</th><th>spokesperson</th><th>date</th><th>question</th><th>answer</th><th>source</th></tr></thead>
<tbody>{table_rows or '<tr><td colspan="6" class="empty">No hedged answers.</td></tr>'}</tbody></table></section>
</body></html>
"""


def write_report(scores_path, out_path, title: Optional[str] = None) -> Path:
    """Read a scores file and write the report atomically."""
    from .scoring import read_scores

    rows = read_scores(scores_path)
    out_path = Path(out_path)
    page = build_report(rows, out_path.parent, title or f"stancekit report: {Path(scores_path).name}")
    tmp = out_path.with_name(f".{out_path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)  # only left when writing failed
    return out_path
