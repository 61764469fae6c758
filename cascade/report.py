"""The retrofit report a consultant hands over: HTML, Excel and Markdown from one plan.

:func:`write_report` writes, into one folder,

* ``report.html``: self-contained (figures embedded as PNG data, styles inline; it opens offline
  in any browser): the summary, the policy criteria, the indicators before and after, the
  retrofit actions, the figures (network before and after, water balance, composite curves,
  indicators against thresholds), the flows, the binding limits, where each limit comes from,
  and how the plan was obtained and checked;
* ``report.xlsx`` (the ``excel`` extra, openpyxl): one sheet per table;
* ``report.md``: the summary and the tables as Markdown, for a repository or an e-mail.

Figures need the ``plot`` extra (matplotlib); without it the HTML says so and has no figures.
Every file is written to a temporary name and renamed, so a failure leaves no half-written file.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io as _io
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .exceptions import CascadeError
from .io import write_bytes_atomic, write_text_atomic
from .plan import RetrofitPlan

#: Files :func:`write_report` can write, by format.
FORMATS = {"html": "report.html", "xlsx": "report.xlsx", "md": "report.md"}
#: Figures of the report, in order: id -> title.
FIGURES = {
    "network_plan": "Water network of the plan",
    "network_baseline": "Water network today (baseline)",
    "water_balance": "Water balance before and after",
    "composite_curves": "Composite curves and pinch",
    "indicators": "Indicators against the policy thresholds",
}


def report_tables(plan: RetrofitPlan, industry: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables of the report, by sheet name: summary, eligibility, indicators, actions, flows,
    baseline flows, regeneration, limits, limit sources, and for a park its plants and exchanges."""
    u = plan.units.get("flow", "t/h")
    money = plan.units.get("money", "")
    econ = plan.economics or {}
    capital = (econ.get("capital") or {}).get("total")
    rows = [
        ("plant", plan.plant, ""),
        ("status", plan.status, "optimal only when HiGHS proved it and the independent check passed"),
        ("objective", plan.objective_name, ""),
        ("gap", plan.gap, "relative gap to the proven bound"),
        ("independent check", "passed" if plan.check.passed else "FAILED",
         f"max violation {plan.check.max_violation:.2g}"),
        (f"fresh water, baseline [{u}]", plan.baseline["freshwater"], plan.baseline["kind"]),
        (f"fresh water, plan [{u}]", plan.freshwater, ""),
        ("fresh water saved [%]", plan.savings["freshwater_pct"], ""),
        ("fresh water saved [t/yr]", plan.savings["freshwater_per_year"], ""),
        (f"wastewater, baseline [{u}]", plan.baseline["wastewater"], ""),
        (f"wastewater, plan [{u}]", plan.wastewater, ""),
        (f"annual cost, baseline [{money}/yr]", plan.baseline["cost"], ""),
        (f"annual cost, plan [{money}/yr]", plan.costs["total"], ""),
        (f"annual saving [{money}/yr]", plan.savings["cost_per_year"], ""),
        (f"capital [{money}]", capital, ""),
        ("payback [years]", econ.get("payback_years"), "simple payback; none when nothing is saved"),
        (f"NPV [{money}]", econ.get("npv"), "over the finance lifetime"),
    ]
    summary = pd.DataFrame(rows, columns=["item", "value", "note"])
    pipes = plan.pipes
    actions = pipes[pipes["status"] != "kept"].rename(columns={"status": "action"})
    actions["action"] = actions["action"].map({"new": "add pipe", "removed": "remove pipe"})
    regen = plan.regeneration.reset_index().rename(columns={"index": "regenerator"})
    if len(regen):
        regen_actions = pd.DataFrame({"from": regen.iloc[:, 0], "to": "", "action": "run regenerator",
                                      "flow": regen["flow"], "baseline_flow": float("nan")})
        actions = pd.concat([actions, regen_actions[regen_actions["flow"] > 0]], ignore_index=True)
    tables = {
        "Summary": summary,
        "Eligibility": plan.eligibility(industry),
        "Indicators": plan.indicators,
        "Actions": actions.reset_index(drop=True),
        "Flows": plan.flows,
        "Baseline flows": plan.baseline_flows,
        "Regeneration": regen,
        "Binding limits": plan.limits[plan.limits["binding"]].reset_index(drop=True),
        "Limits": plan.limits,
        "Limit sources": limit_sources(plan),
    }
    if len(plan.plants):
        tables["Plants"] = plan.plants.reset_index()
        tables["Exchanges"] = plan.exchanges
    return tables


def limit_sources(plan: RetrofitPlan) -> pd.DataFrame:
    """Where each unit's concentration limits come from: a standard (with its verification level) or the
    plant file. Columns ``unit``, ``field``, ``contaminant``, ``limit``, ``source``, ``verification``."""
    plant = plan.source
    columns = ["unit", "field", "contaminant", "limit", "source", "verification"]
    if plant is None:
        return pd.DataFrame(columns=columns)
    provenance = getattr(plant, "limit_sources", {}) or {}
    rows = []
    for table, field in (("sinks", "max"), ("operations", "max_inlet"), ("operations", "max_outlet"),
                         ("discharges", "max")):
        frame = plant.table(table)
        for unit, row in frame.iterrows():
            given = _source_of(provenance, table, unit, field)
            for c in plant.contaminants:
                value = row.get(f"{field}:{c}")
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                source, level = given(c)
                rows.append({"unit": unit, "field": field, "contaminant": c, "limit": float(value),
                             "source": source, "verification": level})
    return pd.DataFrame(rows, columns=columns)


def _source_of(provenance: dict, table: str, unit: str, field: str) -> Callable[[str], tuple[str, str]]:
    """A function contaminant -> (source, verification) for one unit's field."""
    entry = provenance.get((table, unit, field))
    if not entry:
        return lambda c: ("plant file", "")

    def source(c: str) -> tuple[str, str]:
        limit = (entry.get("limits") or {}).get(c)
        if limit is None:
            return "plant file (overrides the standard)" if c in (entry.get("overrides") or ()) else "plant file", ""
        return f"{entry['standard']} ({entry['use']}; {limit.get('parameter', c)})", str(limit.get("verification", ""))

    return source


# ---------------------------------------------------------------------- figures
def report_figures(plan: RetrofitPlan, eligibility: pd.DataFrame) -> tuple[dict[str, bytes], list[str]]:
    """Draw the figures of :data:`FIGURES` as PNG bytes; returns them and notes on figures not drawn."""
    try:
        import matplotlib.pyplot as plt  # the session's backend is left as it is: figures are saved, then closed
    except ImportError:
        return {}, ["Figures need matplotlib: pip install 'cascade-water[plot]'."]
    from . import plot

    plant = plan.source
    if plant is None:
        return {}, ["The plan carries no plant, so no figures were drawn."]
    base, base_quality = plan.baseline_flows, plan.baseline_outlet_quality
    drawers: dict[str, Callable[[], Any]] = {
        "network_plan": lambda: plot.network(plant, plan.flows, quality=plan.outlet_quality, title="Plan"),
        "network_baseline": lambda: plot.network(plant, base, quality=base_quality, title="Baseline (today)"),
        "water_balance": lambda: plot.water_balance(plant, base, plan.flows),
        "composite_curves": lambda: plot.composite_curves(plant),
        "indicators": lambda: plot.indicators(indicator_chart_table(plan, eligibility)),
    }
    figures, notes = {}, []
    for name, draw in drawers.items():
        try:
            drawn = draw()
            fig = drawn if hasattr(drawn, "savefig") else drawn.figure
            buffer = _io.BytesIO()
            fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            plt.close(fig)
            figures[name] = buffer.getvalue()
        except Exception as exc:  # a figure must not sink the report; the report says which and why
            notes.append(f"Figure '{FIGURES[name]}' was not drawn: {type(exc).__name__}: {exc}")
            plt.close("all")
    return figures, notes


def indicator_chart_table(plan: RetrofitPlan, eligibility: pd.DataFrame) -> pd.DataFrame:
    """The rows of the indicators figure: each policy criterion, plus the reuse rate when no industry
    threshold applies (columns ``indicator``, ``baseline``, ``plan``, ``threshold``, ``unit``, ``comparison``)."""
    rows = eligibility[["indicator", "baseline", "plan", "threshold", "unit", "comparison"]].copy()
    if not (eligibility["criterion"] == "1 reuse rate").any():
        table = plan.indicators.set_index("key")
        extra = pd.DataFrame([{"indicator": "industrial water reuse rate", "unit": "%", "comparison": "",
                               "baseline": table.loc["reuse_rate", "baseline"], "plan": table.loc["reuse_rate", "plan"],
                               "threshold": float("nan")}])
        rows = pd.concat([extra, rows], ignore_index=True)
    return rows.astype({"baseline": float, "plan": float, "threshold": float}).reset_index(drop=True)


# ---------------------------------------------------------------------- writers
def write_report(
    plan: RetrofitPlan,
    out_dir: str | os.PathLike,
    *,
    formats: Iterable[str] = ("html", "xlsx", "md"),
    industry: str | None = None,
    figures: bool = True,
) -> dict[str, Path]:
    """Write the retrofit report of a plan into ``out_dir`` (created if needed).

    Parameters
    ----------
    plan : RetrofitPlan
        A plan from :func:`cascade.optimize` (it carries its plant and water accounts).
    out_dir : path
    formats : iterable of {'html', 'xlsx', 'md'}
    industry : str, optional
        The industry for the MIIT criteria; default the plant file's ``industry``.
    figures : bool, default True
        Draw the figures (the ``plot`` extra).

    Returns
    -------
    dict
        Format -> path written.

    Raises
    ------
    CascadeError
        An unknown format, or ``xlsx`` without openpyxl (named before anything is written).
    """
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise CascadeError(f"unknown report format(s) {', '.join(unknown)}; use {', '.join(FORMATS)}")
    if "xlsx" in formats:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise CascadeError("the Excel report needs openpyxl: pip install 'cascade-water[excel]' "
                               "(or leave out xlsx: --formats html,md)") from None
    tables = report_tables(plan, industry)
    drawn, notes = (report_figures(plan, tables["Eligibility"]) if figures and "html" in formats else ({}, []))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for fmt in formats:
        path = out / FORMATS[fmt]
        if fmt == "html":
            write_text_atomic(path, render_html(plan, tables, drawn, notes))
        elif fmt == "md":
            write_text_atomic(path, render_markdown(plan, tables))
        else:
            write_bytes_atomic(path, render_excel(tables))
        written[fmt] = path
    return written


def _verdict(plan: RetrofitPlan, eligibility: pd.DataFrame) -> str:
    eligible = eligibility.attrs.get("eligible")
    industry = eligibility.attrs.get("industry") or "no industry given"
    if eligible is None:
        return f"MIIT 2024 typical-case criteria ({industry}): none could be judged with the data given."
    met = eligibility[(eligibility["passes"] == True) & (eligibility["source"].str.startswith("MIIT"))]  # noqa: E712
    if eligible:
        which = "criterion" if len(met) == 1 else "criteria"
        return (f"MIIT 2024 typical-case criteria ({industry}): the plan meets {len(met)} {which} "
                f"({'; '.join(met['indicator'])}); one is enough.")
    return f"MIIT 2024 typical-case criteria ({industry}): the plan meets none of the criteria that could be judged."


def _headline(plan: RetrofitPlan) -> list[str]:
    u = plan.units.get("flow", "t/h")
    money = plan.units.get("money", "")
    s, b = plan.savings, plan.baseline
    lines = [
        f"Fresh water: {b['freshwater']:.4g} → {plan.freshwater:.4g} {u} (saves {s['freshwater']:.4g} {u}, "
        f"{s['freshwater_pct']:.3g} %, {s['freshwater_per_year']:,.0f} t/yr); baseline: {b['kind']}.",
        f"Wastewater: {b['wastewater']:.4g} → {plan.wastewater:.4g} {u}.",
        f"Annual cost: {b['cost']:,.0f} → {plan.costs['total']:,.0f} {money}/yr (saves {s['cost_per_year']:,.0f}).",
    ]
    econ = plan.economics or {}
    if econ and econ.get("capital", {}).get("total", 0) > 0:
        payback = "never" if econ.get("payback_years") is None else f"{econ['payback_years']:.3g} years"
        lines.append(f"Capital: {econ['capital']['total']:,.0f} {money}; simple payback {payback}.")
    gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.3g} %"
    lines.append(f"Status: {plan.status} (gap {gap}); independent check "
                 f"{'passed' if plan.check.passed else 'FAILED'}.")
    return lines


def _cell(value: Any) -> str:
    """A table cell for a reader: 4 significant digits (thousands grouped), yes/no, blank for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0:
            return "0"
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    return str(value)


#: Columns the HTML and Markdown leave out (kept in the workbook): machine keys.
_HIDDEN = ("key",)


def _html_table(frame: pd.DataFrame, name: str) -> str:
    frame = frame.drop(columns=[c for c in _HIDDEN if c in frame.columns])
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            css = ""
            if column in ("passes", "passes_baseline") and isinstance(value, bool):
                css = ' class="pass"' if value else ' class="fail"'
            cells.append(f"<td{css}>{html.escape(_cell(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{max(1, len(frame.columns))}">(none)</td></tr>')
    return (f'<table data-table="{html.escape(name)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans CJK SC',sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #2a6f97;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em;width:100%}
th,td{border:1px solid #ccd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eef3f7}tbody tr:nth-child(even){background:#fafbfc}
td.pass{background:#d9f2d9}td.fail{background:#f9dcdc}
figure{margin:1em 0;text-align:center}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#555}.meta{color:#666;font-size:.9em}.note{background:#fff8e1;padding:.4em .8em}
ul.headline li{margin:.2em 0}
"""


def render_html(plan: RetrofitPlan, tables: dict[str, pd.DataFrame], figures: dict[str, bytes],
                notes: Iterable[str] = ()) -> str:
    """The HTML report as one self-contained page (see the module notes)."""
    esc = html.escape
    today = _dt.date.today().isoformat()
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Water reuse retrofit: {esc(plan.plant)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Water reuse retrofit: {esc(plan.plant)}</h1>",
        f'<p class="meta">cascade {esc(__version__)}, {today}; objective {esc(plan.objective_name)}.</p>',
        '<h2 id="summary">Summary</h2><ul class="headline">',
        *(f"<li>{esc(line)}</li>" for line in _headline(plan)),
        f"<li>{esc(_verdict(plan, tables['Eligibility']))}</li></ul>",
        '<h2 id="eligibility">Policy criteria</h2>',
        "<p>MIIT 2024: the call for typical cases of industrial wastewater recycling (工信厅节函〔2024〕280号); a "
        "candidate meets at least one of criteria 1–3. Yangling 2025: the Yangling plan for industrial water "
        "(杨管工发〔2025〕13号), compliant discharge of at least 98 %. "
        "Margin: how far the plan is on the passing side (negative: short of it).</p>",
        _html_table(tables["Eligibility"], "eligibility"),
        '<h2 id="indicators">Indicators before and after</h2>',
        "<p>Flows in the plant's flow unit, shares in percent, yearly volumes in m³. Formulas in the symbols of "
        "GB/T 12452: V<sub>f</sub> intake, V<sub>r</sub> reused water, V<sub>d</sub> wastewater.</p>",
        _html_table(tables["Indicators"], "indicators"),
        '<h2 id="actions">Retrofit actions</h2>',
        _html_table(tables["Actions"], "actions"),
    ]
    if "Plants" in tables:
        parts += ['<h2 id="park">Plants of the park</h2>', _html_table(tables["Plants"], "plants"),
                  "<h3>Exchanges between plants</h3>", _html_table(tables["Exchanges"], "exchanges")]
    parts.append('<h2 id="figures">Figures</h2>')
    captions = dict(FIGURES)
    loops = (plan.accounts.get("plan") or {}).get("recirculation", 0.0)
    if loops > 0:
        flow = plan.indicators.set_index("key").loc["recirculation", "plan"]
        captions["water_balance"] += (f"; the declared recirculation ({flow:.4g} {plan.units.get('flow', 't/h')}, "
                                      "inside units the network does not draw) is not drawn but counts as reused water")
    for name, title in FIGURES.items():
        if name in figures:
            data = base64.b64encode(figures[name]).decode("ascii")
            parts.append(f'<figure data-figure="{name}"><img alt="{esc(title)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{esc(captions[name])}</figcaption></figure>")
    for note in notes:
        parts.append(f'<p class="note">{esc(note)}</p>')
    parts += [
        '<h2 id="flows">Flows of the plan</h2>', _html_table(tables["Flows"], "flows"),
        '<h2 id="baseline-flows">Flows today (baseline)</h2>', _html_table(tables["Baseline flows"], "baseline_flows"),
        '<h2 id="regeneration">Regeneration</h2>', _html_table(tables["Regeneration"], "regeneration"),
        '<h2 id="limits">Binding limits</h2>', _html_table(tables["Binding limits"], "binding_limits"),
        '<h2 id="limit-sources">Where the limits come from</h2>',
        "<p>A limit taken from a standard names it, with the verification level of the number in cascade's "
        "standards library (T: transcription checked page by page; S, S2: secondary sources; P: partly "
        "inferred; U: unverified).</p>",
        _html_table(tables["Limit sources"], "limit_sources"),
        '<h2 id="method">How this plan was obtained</h2>',
        f"<p>{esc(_method(plan))}</p>",
        "<ul>", *(f"<li>{esc(n)}</li>" for n in plan.notes), "</ul>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _method(plan: RetrofitPlan) -> str:
    size = plan.solve.get("size", {})
    times = plan.solve.get("times", {})
    total = sum(v for v in times.values() if isinstance(v, int | float))
    gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.3g} %"
    return (f"Superstructure MILP solved with HiGHS ({size.get('variables', '?')} variables, "
            f"{size.get('constraints', '?')} constraints; {total:.2f} s in all), gap {gap}. Every balance and limit "
            f"was then re-verified from the flows alone: check {'passed' if plan.check.passed else 'FAILED'}, largest "
            f"relative violation {plan.check.max_violation:.2g}.")


def _md_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(none)\n"
    frame = frame.drop(columns=[c for c in _HIDDEN if c in frame.columns])
    head = "| " + " | ".join(str(c).replace("_", " ") for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows]) + "\n"


def render_markdown(plan: RetrofitPlan, tables: dict[str, pd.DataFrame]) -> str:
    """The Markdown summary: headline figures, criteria, indicators, actions and notes."""
    indicators = tables["Indicators"][["indicator", "unit", "baseline", "plan", "change"]]
    eligibility = tables["Eligibility"][["criterion", "indicator", "unit", "comparison", "threshold", "baseline",
                                         "plan", "passes", "margin", "note"]]
    parts = [
        f"# Water reuse retrofit: {plan.plant}", "",
        f"cascade {__version__}, {_dt.date.today().isoformat()}; objective {plan.objective_name}.", "",
        "## Summary", "", *(f"- {line}" for line in _headline(plan)), f"- {_verdict(plan, tables['Eligibility'])}", "",
        "## Policy criteria", "", _md_table(eligibility),
        "## Indicators", "", _md_table(indicators),
        "## Retrofit actions", "", _md_table(tables["Actions"]),
        "## How this plan was obtained", "", _method(plan), "",
        *(f"- {n}" for n in plan.notes),
    ]
    return "\n".join(parts).rstrip() + "\n"


def render_excel(tables: dict[str, pd.DataFrame]) -> bytes:
    """The workbook (one sheet per table) as bytes; needs openpyxl (the ``excel`` extra)."""
    buffer = _io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for k, column in enumerate(frame.columns, start=1):
                width = max([len(str(column))] + [len(_cell(v)) for v in frame[column].head(200)])
                sheet.column_dimensions[_column_letter(k)].width = min(60, max(8, width + 2))
            sheet.freeze_panes = "A2"
    return buffer.getvalue()


def _column_letter(k: int) -> str:
    letters = ""
    while k:
        k, r = divmod(k - 1, 26)
        letters = chr(65 + r) + letters
    return letters


__all__ = ["write_report", "report_tables", "report_figures", "render_html", "render_markdown", "render_excel",
           "limit_sources", "FIGURES", "FORMATS"]
