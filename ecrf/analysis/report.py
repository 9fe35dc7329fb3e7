"""The primary analysis as a self-contained HTML page with server-side SVG pictures. No Django.

Two pictures, drawn here as plain SVG (no JavaScript, no plotting library, same bytes every run):
a forest plot of the responder proportion with its Wilson interval per arm, overall and per
phenotype, and the mean SOFA by study day and arm.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from ecrf.analysis.primary import ACTIVE, ARMS, PLACEBO, percent, summary_line
from ecrf.analysis.safety_tables import count_text

COLOURS = {ACTIVE: "#1f5fa8", PLACEBO: "#b35a00"}
# The pictures' text style. A page whose Content-Security-Policy forbids inline <style> elements
# (style-src 'self') draws them with inline_style=False and styles ``svg text`` in its own sheet.
SVG_STYLE = "<style>text{font:12px sans-serif}</style>"


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def forest_groups(result: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The forest plot's groups: all of the mITT, then each phenotype."""
    return [("All (mITT)", result["primary"])] + [(name, r) for name, r in sorted(result["by_phenotype"].items())]


def forest_svg(result: Mapping[str, Any], *, inline_style: bool = True) -> str:
    groups = forest_groups(result)
    width, left, right, row_h = 640, 190, 40, 22
    height = 40 + row_h * 2 * len(groups) + 30
    span = width - left - right

    def x(p: float) -> float:
        return left + p * span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             'aria-label="Responder proportion with 95% Wilson interval per arm">', SVG_STYLE if inline_style else ""]
    for tick in range(0, 11, 2):
        tx = _fmt(x(tick / 10))
        parts.append(f'<line x1="{tx}" y1="30" x2="{tx}" y2="{height - 25}" stroke="#ddd"/>')
        parts.append(f'<text x="{tx}" y="{height - 10}" text-anchor="middle">{tick * 10}%</text>')
    y = 40
    for name, group in groups:
        for arm, key in ((ACTIVE, "active"), (PLACEBO, "placebo")):
            g = group[key]
            label = f"{escape(name)}: {escape(arm)} ({g['responders']}/{g['n']})"
            parts.append(f'<text x="4" y="{y + 4}">{label}</text>')
            lo, hi = g["wilson95"]
            if g["proportion"] is not None and lo is not None:
                parts.append(f'<line x1="{_fmt(x(lo))}" y1="{y}" x2="{_fmt(x(hi))}" y2="{y}" '
                             f'stroke="{COLOURS[arm]}" stroke-width="2"/>')
                parts.append(f'<rect x="{_fmt(x(g["proportion"]) - 4)}" y="{y - 4}" width="8" height="8" '
                             f'fill="{COLOURS[arm]}"/>')
            y += row_h
    parts.append("</svg>")
    return "".join(parts)


def sofa_svg(result: Mapping[str, Any], *, inline_style: bool = True) -> str:
    series = result["mean_sofa_by_day"]
    days = sorted({int(d) for a in ARMS for d in series.get(a, {})})
    width, height, left, bottom, top = 640, 300, 40, 30, 20
    if not days:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="40"><text x="4" y="20">No SOFA data.</text></svg>'
    top_value = max(1.0, max(v for a in ARMS for v in series.get(a, {}).values() if v is not None))
    span_x = width - left - 20
    span_y = height - top - bottom

    def px(day: int) -> float:
        return left + (day - days[0]) / max(1, days[-1] - days[0]) * span_x

    def py(value: float) -> float:
        return top + (1 - value / top_value) * span_y

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             'aria-label="Mean SOFA by study day and arm">', SVG_STYLE if inline_style else "",
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 20}" y2="{height - bottom}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#999"/>']
    for day in days:
        parts.append(f'<text x="{_fmt(px(day))}" y="{height - 10}" text-anchor="middle">{day}</text>')
    parts.append(f'<text x="4" y="{top + 4}">{_fmt(top_value)}</text><text x="4" y="{height - bottom}">0</text>')
    for i, arm in enumerate(ARMS):
        points = [(int(d), v) for d, v in sorted(series.get(arm, {}).items(), key=lambda kv: int(kv[0])) if v is not None]
        if points:
            path = " ".join(f"{_fmt(px(d))},{_fmt(py(v))}" for d, v in points)
            parts.append(f'<polyline fill="none" stroke="{COLOURS[arm]}" stroke-width="2" points="{path}"/>')
        parts.append(f'<text x="{width - 200}" y="{top + 14 * (i + 1)}" fill="{COLOURS[arm]}">{escape(arm)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def comparison_cells(name: str, r: Mapping[str, Any]) -> dict[str, str]:
    """One comparison's row as text: n/N (%) per arm, the difference with its 95% Newcombe
    interval, chi-square (Yates) P and Fisher P ("-" where not computable)."""
    c = r.get("comparison")
    diff = "-" if not c else f"{100 * c['difference']:.1f}% ({100 * c['newcombe95'][0]:.1f} to {100 * c['newcombe95'][1]:.1f})"
    chi = "-" if not c or c["chi2_yates_p"] is None else f"{c['chi2_yates_p']:.4f}"
    fisher = "-" if not c else f"{c['fisher_p']:.4f}"
    a, p = r["active"], r["placebo"]
    return {"name": name, "active": f"{a['responders']}/{a['n']} ({percent(a['proportion'])})",
            "placebo": f"{p['responders']}/{p['n']} ({percent(p['proportion'])})", "difference": diff, "chi2_yates_p": chi,
            "fisher_p": fisher}


def logistic_text(result: Mapping[str, Any]) -> str:
    logit = result["logistic_adjusted_for_site"]
    if logit.get("estimable"):
        return f"odds ratio {logit['odds_ratio']} (95% CI {logit['ci95'][0]} to {logit['ci95'][1]}), P = {logit['p']}"
    return f"not estimable ({logit.get('reason', '')})"


def _row(name: str, r: Mapping[str, Any]) -> str:
    c = comparison_cells(name, r)
    return (f"<tr><th>{escape(c['name'])}</th><td>{c['active']}</td><td>{c['placebo']}</td><td>{c['difference']}</td>"
            f"<td>{c['chi2_yates_p']}</td><td>{c['fisher_p']}</td></tr>")


_STYLE = """<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style>"""


def _primary_body(result: Mapping[str, Any]) -> str:
    rows = [_row("All (mITT)", result["primary"])] + [_row(k, v) for k, v in sorted(result["by_phenotype"].items())]
    mort = [_row("Day 28", result["mortality_day28"]), _row("Day 90", result["mortality_day90"])]
    logit_text = escape(logistic_text(result))
    ne = result["not_evaluable_counted_as_non_responders"]
    head = "<tr><th></th><th>Active</th><th>Placebo</th><th>Difference (95% Newcombe)</th><th>Chi-square (Yates) P</th>" \
           "<th>Fisher P</th></tr>"
    return f"""<p>{escape(result["responder_definition"])}; population: {escape(result["population"])};
{result["analysed"]} analysed of {result["randomized"]} randomized.</p>
<p><strong>{escape(summary_line(result))}</strong></p>
<h2>Responders</h2><table>{head}{"".join(rows)}</table>
<p>Not evaluable (no day-1 SOFA), counted as non-responders: active {ne[ACTIVE]}, placebo {ne[PLACEBO]}.</p>
<p>Logistic regression adjusted for site: {logit_text}.</p>
<h2>Mortality</h2><table>{head}{"".join(mort)}</table>
<h2>Responder proportion per arm (95% Wilson interval)</h2>{forest_svg(result)}
<h2>Mean SOFA by study day</h2>{sofa_svg(result)}
"""


def primary_html(result: Mapping[str, Any], *, study_code: str, as_of: datetime, package_hash: str = "") -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(study_code)}: primary analysis</title>
{_STYLE}</head><body>
<header><h1>{escape(study_code)}: primary analysis</h1>
<p>Data as of {escape(as_of.isoformat())}{f" &middot; package SHA-256 {escape(package_hash)}" if package_hash else ""}</p></header>
{_primary_body(result)}</body></html>
"""


def soc_rows(safety: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The SOC table as text cells: per arm, events and participants n/N (%), all and serious."""
    n = safety["n"]
    return [{"soc": r["soc"], "cells": [text for arm in safety["arms"] for kind in ("all", "serious")
                                        for text in (str(r["arms"][arm][kind]["events"]),
                                                     count_text(r["arms"][arm][kind]["participants"], n[arm]))]}
            for r in safety["by_soc"]]


def signal_rows(signal: Mapping[str, Any], arms: Sequence[str]) -> list[dict[str, Any]]:
    """One signal's groups as text cells (participants with an event n/N (%) per arm)."""
    return [{"group": g["group"], "product_phenotype": g["product_phenotype"],
             "cells": [count_text(g["arms"][arm]["participants"], g["arms"][arm]["n"]) for arm in arms]}
            for g in signal["groups"]]


def safety_body(safety: Mapping[str, Any]) -> str:
    arms = safety["arms"]
    n = ", ".join(f"{escape(arm)} N = {safety['n'][arm]}" for arm in arms)
    arm_head = "".join(f'<th colspan="4">{escape(arm)} (N = {safety["n"][arm]})</th>' for arm in arms)
    kind_head = "<th>All AEs: events</th><th>All AEs: participants</th><th>SAEs: events</th><th>SAEs: participants</th>" \
        * len(arms)
    soc = "".join(f"<tr><th>{escape(r['soc'])}</th>{''.join(f'<td>{c}</td>' for c in r['cells'])}</tr>"
                  for r in soc_rows(safety))
    parts = [f"<h2>Safety</h2><p>{escape(safety['population'])}: {n}.</p>",
             "<h3>Adverse events by system organ class and seriousness</h3>",
             f"<table><tr><th rowspan=\"2\">System organ class</th>{arm_head}</tr><tr>{kind_head}</tr>{soc}</table>"]
    for signal in safety["signals"]:
        head = "".join(f"<th>{escape(arm)}</th>" for arm in arms)
        body = "".join(
            f"<tr><th>{escape(r['group'])}{' (receives ' + escape(signal['product']) + ' if active)' if r['product_phenotype'] else ''}"
            f"</th>{''.join(f'<td>{c}</td>' for c in r['cells'])}</tr>" for r in signal_rows(signal, arms))
        parts.append(f"<h3>{escape(signal['label'])} (signal with {escape(signal['product'])}): participants with an event"
                     f"</h3><table><tr><th>Group</th>{head}</tr>{body}</table>")
    return "\n".join(parts) + "\n"


def dsmb_html(result: Mapping[str, Any], safety: Mapping[str, Any], *, study_code: str, title: str, as_of: datetime,
              sources: Sequence[tuple[str, str]]) -> str:
    """The closed report of a package: the primary analysis and the safety tables. Its header names
    the package members it was computed from with their SHA-256 (the zip's own hash cannot be in
    a file it contains; the manifest lists the same member hashes, and this file's)."""
    members = "".join(f"<li><code>{escape(name)}</code> SHA-256 <code>{escape(sha)}</code></li>" for name, sha in sources)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(study_code)}: {escape(title)}</title>
{_STYLE}</head><body>
<header><h1>{escape(study_code)}: {escape(title)}</h1>
<p>Data as of {escape(as_of.isoformat())}. Computed from this package's members:</p><ul>{members}</ul></header>
<h2>Primary analysis</h2>
{_primary_body(result)}{safety_body(safety)}</body></html>
"""


def primary_csv(result: Mapping[str, Any]) -> str:
    """One line per comparison (overall, each phenotype, mortality): counts, difference, interval, p."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["analysis", "active_n", "active_events", "placebo_n", "placebo_events", "difference",
                     "newcombe95_low", "newcombe95_high", "chi2_yates_p", "fisher_p"])
    groups = [("responders", result["primary"])] + [(f"responders {k}", v) for k, v in sorted(result["by_phenotype"].items())]
    groups += [("mortality day 28", result["mortality_day28"]), ("mortality day 90", result["mortality_day90"])]
    for name, g in groups:
        c = g.get("comparison") or {}
        lo, hi = c.get("newcombe95") or (None, None)
        writer.writerow([name, g["active"]["n"], g["active"]["responders"], g["placebo"]["n"], g["placebo"]["responders"],
                         c.get("difference"), lo, hi, c.get("chi2_yates_p"), c.get("fisher_p")])
    return buffer.getvalue()
