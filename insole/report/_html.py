"""The report as one self-contained HTML page: no CDN, no font or script from the network.

plotly.js is inlined from the installed plotly package; figures are plotly's
own HTML fragments; the kinetic chain is inline SVG. The page is a Jinja2
template with autoescaping, so every piece of text that comes from the
recording or the user (subject id, notes, file names) is shown as text,
never run as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from insole import plot
from insole.report._build import SECTIONS, Report
from insole.report._chain import GRADE_COLOURS, chain_svg
from insole.report._clinic_test import CLINIC_SECTION
from insole.report._evidence import CONFIDENCE_LEVELS, GRADE_LABELS, JOINT_LABELS

__all__ = ["render_html", "write_html"]

_PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}


def _figure_html(fig: Any, div_id: str, reason: str | None = None) -> Markup:
    if fig is None:
        because = f": {reason}" if reason else ""
        return Markup('<p class="muted">Not available for this recording{}.</p>').format(because)
    html = pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False, div_id=div_id,
                       config=_PLOT_CONFIG, default_width="100%")
    return Markup(html)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


_TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="insole {{ r.software.version }}">
<title>Foot loading report{% if r.input.subject_id %} – {{ r.input.subject_id }}{% endif %}</title>
<style>
  :root { --ink: #17202a; --muted: #566573; --line: #d5d8dc; --accent: #1f618d; }
  * { box-sizing: border-box; }
  body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; color: var(--ink); margin: 0 auto;
         max-width: 1060px; padding: 24px 28px 60px; line-height: 1.45; font-size: 14px; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 19px; border-bottom: 2px solid var(--accent); padding-bottom: 3px; margin-top: 34px; }
  h3 { font-size: 16px; margin: 0 0 6px; }
  table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 13px; }
  th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
  th { background: #f4f6f7; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .muted { color: var(--muted); }
  .banner { background: #fef5e7; border: 1px solid #f5cba7; padding: 10px 14px; border-radius: 6px; }
  .warn { background: #fdedec; border: 1px solid #f5b7b1; padding: 8px 12px; border-radius: 6px; margin: 8px 0; }
  .finding { border: 1px solid var(--line); border-left: 6px solid var(--accent); border-radius: 6px;
             padding: 12px 16px; margin: 14px 0; page-break-inside: avoid; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; margin-right: 4px;
           border: 1px solid var(--line); background: #f8f9f9; }
  .conf-high { background: #d5f5e3; } .conf-moderate { background: #fcf3cf; }
  .conf-low { background: #fae5d3; } .conf-very_low { background: #f2d7d5; }
  .pass { color: #1e8449; font-weight: bold; } .fail { color: #922b21; font-weight: bold; }
  ul.tight { margin: 4px 0 8px; padding-left: 20px; }
  .grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 24px; }
  .kv td:first-child { width: 32%; color: var(--muted); }
  .refs li { margin-bottom: 4px; }
  .chain svg { max-width: 760px; display: block; margin: 0 auto; }
  .note { white-space: pre-wrap; }
  footer { margin-top: 40px; font-size: 12px; }
  @media print {
    body { max-width: none; padding: 0 4mm; font-size: 11px; }
    h2 { page-break-after: avoid; }
    section.figure { page-break-inside: avoid; }
    .plotly-graph-div { width: 100% !important; }
    .modebar-container { display: none !important; }
  }
</style>
<script>{{ plotlyjs }}</script>
</head>
<body>
<header>
  <h1>Foot loading report</h1>
  <div class="muted">insole {{ r.software.version }} · generated {{ r.generated_at }}</div>
  <p class="banner" id="disclaimer-top">{{ r.disclaimer }}</p>
</header>

<section id="session">
<h2>Session</h2>
<table class="kv">
  <tr><td>Subject</td><td>{{ r.input.subject_id or "not given" }}</td></tr>
  <tr><td>Condition</td><td>{{ r.input.condition or "not given" }}</td></tr>
  <tr><td>Recorded</td><td>{{ r.input.recorded_at or "not given in the file" }}</td></tr>
  <tr><td>Notes</td><td class="note">{{ r.input.notes or "" }}</td></tr>
  <tr><td>File</td><td>{{ r.input.name or "(in memory)" }}{% if r.input.sha256 %}<br><span class="muted">sha256 {{ r.input.sha256 }}</span>{% endif %}</td></tr>
  <tr><td>Insole layout</td><td>{{ r.input.layout }} · {{ r.input.unit }} · {{ r.input.sample_rate_hz }} Hz · {{ "%.1f"|format(r.input.duration_s or 0) }} s</td></tr>
  <tr><td>Body mass</td><td>{% if r.input.body_mass_kg %}{{ r.input.body_mass_kg }} kg{% else %}not given{% endif %}{% if r.summary.body_weight_source == "estimated" %} (body weight estimated from the recording){% endif %}</td></tr>
  {% for side, dev in r.input.devices.items() %}<tr><td>Device, {{ side }}</td><td>{% for k, v in dev.items() %}{{ k }}: {{ v }}{% if not loop.last %} · {% endif %}{% endfor %}</td></tr>{% endfor %}
</table>
</section>

<section id="quality">
<h2>Data quality</h2>
<table>
  <tr><th>Foot</th><th>Verdict</th><th>Valid samples</th><th>Gaps</th><th>Steps used</th><th>Strides used</th><th>Steps left out</th><th>Notes</th></tr>
  {% for q in r.quality %}
  {% if q.present %}
  <tr><td>{{ q.side }}</td><td>{{ q.quality }}</td><td class="num">{{ q.valid_pct }}%</td><td class="num">{{ q.gaps }} ({{ q.gap_samples }} samples)</td>
      <td class="num">{{ q.steps_used }}</td><td class="num">{{ q.strides_used }}</td><td class="num">{{ q.excluded }}</td>
      <td>{{ q.notes|join("; ") }}{% for k, v in q.excluded_reasons.items() if v %}; left out: {{ k }} ({{ v }}){% endfor %}</td></tr>
  {% else %}
  <tr><td>{{ q.side }}</td><td colspan="7">no data for this foot</td></tr>
  {% endif %}
  {% endfor %}
</table>
{% for q in r.quality if q.present and not q.enough_steps %}
<p class="warn">Only {{ q.steps_used }} usable steps on the {{ q.side }} foot. About {{ r.provenance.findings_params.full_confidence_steps }} steps per foot are recommended for in-shoe pressure data [78]; findings for this foot carry lower confidence.</p>
{% endfor %}
</section>

<section id="key-numbers">
<h2>Key numbers</h2>
<p class="muted">SI = symmetry index, (right − left) / mean × 100. Reference sources are marked: [literature] a value from a cited study; [real controls] the range of the real control recordings staged with insole (few); [simulated (not real people)] the simulator's normal walking, used only where no real data exist for this insole layout.</p>
<table>
  <tr><th>Measure</th><th>Left</th><th>Right</th><th>SI / session</th><th>Reference</th></tr>
  {% for k in r.key_numbers %}
  <tr><td>{{ k.label }}{% if k.unit %} <span class="muted">({{ k.unit }})</span>{% endif %}</td>
      {% if k.session is not none %}<td class="num">–</td><td class="num">–</td><td class="num">{{ fmt(k.session, k.digits) }}</td>
      {% else %}<td class="num">{{ fmt(k.left, k.digits) }}</td><td class="num">{{ fmt(k.right, k.digits) }}</td><td class="num">{{ fmt(k.symmetry_index_pct, 1) }}{% if k.symmetry_index_pct is not none %}%{% endif %}</td>{% endif %}
      <td>{{ k.reference }}{% for n in k.references %} <a href="#ref-{{ n }}">[{{ n }}]</a>{% endfor %}</td></tr>
  {% endfor %}
</table>
</section>

{% if r.clinic_test %}
{% set ct = r.clinic_test %}
<section id="{{ clinic_section[0] }}" data-test="{{ ct.test }}" data-status="{{ ct.status }}">
<h2>{{ clinic_section[1] }}: {{ ct.name }}</h2>
<p>Status: <strong class="clinic-status">{{ ct.status }}</strong>{% if ct.reasons %} — {{ ct.reasons|join("; ") }}{% endif %}.</p>
{% if not ct.complete %}
<p class="warn">The test was not finished, so it has no total and no reference comparison: {{ ct.reasons|join("; ") or "no reason was stored" }}.</p>
{% endif %}
<h3>Measures</h3>
{% if ct.measures %}
<table class="clinic-measures">
  <tr><th>Measure</th><th>Value</th><th>Unit</th></tr>
  {% for m in ct.measures %}<tr data-key="{{ m.key }}"><td>{{ m.label }}</td><td class="num">{{ m.shown }}</td><td>{{ m.unit }}</td></tr>
  {% endfor %}
</table>
{% else %}
<p class="muted">No measure could be given.</p>
{% endif %}
<h3>Phases</h3>
{% if ct.phases %}
<table class="clinic-phases">
  <tr><th>Phase</th><th>Start (s)</th><th>End (s)</th><th>Duration (s)</th><th>Found by</th></tr>
  {% for p in ct.phases %}<tr><td>{{ p.name|replace("_", " ") }}</td><td class="num">{{ fmt(p.start_s, 2) }}</td><td class="num">{{ fmt(p.end_s, 2) }}</td><td class="num">{{ fmt(p.duration_s, 2) }}</td><td>{{ p.found_by }}</td></tr>
  {% endfor %}
</table>
{% else %}
<p class="muted">No phases were stored for this test.</p>
{% endif %}
<h3>Reference values</h3>
{% if ct.comparisons %}
<p class="muted">Each value is compared only where the patient's age (and sex) place them in the reference's group. "How far checked": abstract read = the numbers are in the source's own abstract; secondary source = read in a text that cites it; record only = only the bibliographic record was seen.</p>
<table class="clinic-references">
  <tr><th>Measure</th><th>Reference</th><th>Comparison</th><th>Source</th><th>How far checked</th></tr>
  {% for c in ct.comparisons %}
  <tr data-source="{{ c.source }}"><td>{{ c.measure_label }}</td><td>{{ c.statement }}{% if c.population %} <span class="muted">({{ c.population }})</span>{% endif %}{% if c.depends_on %} <span class="muted">depends on {{ c.depends_on|join(", ") }}</span>{% endif %}</td>
      <td>{{ c.comparison }}</td><td>{{ c.source_short }} <a href="#ref-{{ c.reference_number }}">[{{ c.reference_number }}]</a></td><td>{{ c.verified }}</td></tr>
  {% endfor %}
</table>
{% elif ct.complete %}
<p class="muted">No reference values are stored with this result.</p>
{% endif %}
<p class="muted">Test sources: {% for s in ct.sources %}{{ s.short }} <a href="#ref-{{ s.number }}">[{{ s.number }}]</a> ({{ s.verified }}){% if not loop.last %}; {% endif %}{% endfor %}. Phases and measures are found from the insoles as described in docs/clinic-tests.md; these are test results, not a diagnosis.</p>
</section>
{% endif %}

<section id="findings">
<h2>Findings</h2>
{% if not r.findings %}
<p>No pattern was flagged by the rules{% if r.not_assessed %} that could be applied (see "not assessed" below){% endif %}.</p>
{% endif %}
{% for f in r.findings %}
<div class="finding" id="finding-{{ f.code }}-{{ f.side }}" data-code="{{ f.code }}" data-side="{{ f.side }}">
  <h3>{{ f.title }} — {{ "both feet" if f.side == "both" else f.side + " foot" }}</h3>
  <div>
    <span class="badge">code {{ f.code }}</span>
    <span class="badge">severity {{ f.severity }}</span>
    <span class="badge conf-{{ f.confidence }}">confidence {{ f.confidence|replace("_", " ") }}</span>
    <span class="badge">evidence {{ f.evidence_grade_label }}</span>
  </div>
  <p>{{ f.statement }}</p>
  <p><strong>Compared with</strong></p>
  <ul class="tight">
  {% for c in f.comparisons %}
    <li><span class="{{ 'pass' if c.passed else 'fail' }}">{{ "✓" if c.passed else "✗" }}</span>
      {{ frame_label(c.frame) }} ({{ c.source_kind }}): {{ c.description }}</li>
  {% endfor %}
  </ul>
  <p><strong>Confidence {{ f.confidence|replace("_", " ") }}</strong>: measurement {{ f.measurement_confidence|replace("_", " ") }}, evidence {{ f.evidence_grade_label }}{% if f.confidence_reasons %} — {{ f.confidence_reasons|join("; ") }}{% endif %}.</p>
  {% if f.joints %}
  <p><strong>Further up the leg</strong> (associations reported in studies, not effects measured here):</p>
  <ul class="tight">
  {% for j in f.joints %}
    <li>{{ joint_label(j.joint) }}{% if j.side not in ("midline",) %} ({{ j.side }}){% endif %} — <em>{{ j.grade_label }}</em>: {{ j.statement }}{% for n in j.references %} <a href="#ref-{{ n }}">[{{ n }}]</a>{% endfor %}</li>
  {% endfor %}
  </ul>
  {% endif %}
  <p><strong>Proposed mechanism</strong>: {{ f.mechanism }}</p>
  {% for n in f.notes %}<p class="muted">{{ n }}</p>{% endfor %}
  <p class="muted">References: {% for n in f.references %}<a href="#ref-{{ n }}">[{{ n }}]</a> {% endfor %}</p>
</div>
{% endfor %}
{% if r.not_assessed %}
<h3>Not assessed</h3>
<table>
  <tr><th>Code</th><th>Foot</th><th>Why</th></tr>
  {% for n in r.not_assessed %}<tr><td>{{ n.code }}</td><td>{{ n.side }}</td><td>{{ n.reason }}</td></tr>{% endfor %}
</table>
{% endif %}
</section>

<section id="chain" class="figure chain">
<h2>Kinetic chain</h2>
<p class="muted">Each arrow runs from a finding to a joint that studies have associated with that loading pattern; the label is the evidence grade (S strong, M moderate, W weak, EO expert opinion; dashed = hypothesis). Associations, not effects measured in this recording.</p>
{{ chain }}
</section>

<section id="left-right" class="figure">
<h2>Left / right comparison</h2>
{{ fig_lr }}
<table>
  <tr><th>Measure</th><th>Left</th><th>Right</th><th>SI (R vs L)</th></tr>
  {% for k in r.key_numbers if k.session is none %}
  <tr><td>{{ k.label }}{% if k.unit %} ({{ k.unit }}){% endif %}</td><td class="num">{{ fmt(k.left, k.digits) }}</td><td class="num">{{ fmt(k.right, k.digits) }}</td><td class="num">{{ fmt(k.symmetry_index_pct, 1) }}</td></tr>
  {% endfor %}
</table>
</section>

<section id="force-curves" class="figure">
<h2>Force curves</h2>
{{ fig_curves }}
</section>

<section id="cop" class="figure">
<h2>Centre of pressure</h2>
{{ fig_cop }}
<p class="muted">The COP paths are measured (mean step of each foot, left foot mirrored). The butterfly is reconstructed: insoles do not measure where the feet are, so each foot is placed {{ butterfly.step_width_mm|int }} mm apart and moved backward at a nominal {{ butterfly.walking_speed_m_s }} m/s while in stance, as on a treadmill; only its shape within each foot is measured.</p>
</section>

<section id="load-maps" class="figure">
<h2>Regional load maps</h2>
{{ fig_maps }}
</section>

<section id="changes">
<h2>Changes since baseline</h2>
{% if r.baseline %}
<p>Baseline: {{ r.baseline.input.name or "(in memory)" }}{% if r.baseline.input.recorded_at %}, recorded {{ r.baseline.input.recorded_at }}{% endif %}.
New findings: {% for f in r.baseline.findings_new %}{{ f.code }} ({{ f.side }}){% if not loop.last %}, {% endif %}{% else %}none{% endfor %}.
Resolved: {% for f in r.baseline.findings_resolved %}{{ f.code }} ({{ f.side }}){% if not loop.last %}, {% endif %}{% else %}none{% endfor %}.
Persisting: {% for f in r.baseline.findings_persisting %}{{ f.code }} ({{ f.side }}){% if not loop.last %}, {% endif %}{% else %}none{% endfor %}.</p>
<table>
  <tr><th>Measure</th><th>Foot</th><th>Before</th><th>After</th><th>Change</th><th>Change %</th><th>Direction</th><th>Beyond step-to-step scatter</th></tr>
  {% for c in r.baseline.changes %}
  <tr><td>{{ c.label }}{% if c.unit %} ({{ c.unit }}){% endif %}</td><td>{{ c.side }}</td><td class="num">{{ fmt(c.before) }}</td><td class="num">{{ fmt(c.after) }}</td>
      <td class="num">{{ "%+.2f"|format(c.change) if c.change is not none else "–" }}</td><td class="num">{{ "%+.1f"|format(c.change_pct) if c.change_pct is not none else "–" }}</td>
      <td>{{ c.direction }}</td><td>{{ "yes" if c.beyond_step_scatter else ("no" if c.beyond_step_scatter is not none else "–") }}</td></tr>
  {% endfor %}
</table>
{% else %}
<p class="muted">No baseline recording was given (use <code>--baseline PATH</code> to compare with an earlier session).</p>
{% endif %}
</section>

<section id="methods">
<h2>Methods</h2>
<p>{{ r.methods }}</p>
<p class="muted">Software: insole {{ r.software.version }}. Analysis parameters and findings cut-offs are recorded in the JSON output (<code>provenance</code>).</p>
</section>

<section id="references">
<h2>References</h2>
<p class="muted">Numbers are those of the project's evidence base. Only sources whose abstract or summary was read are cited; missing bibliographic detail is marked.{% if r.clinic_test %} The clinic test's sources follow the evidence base's numbers; each says how far it was checked (a "record only" source is cited for the test's description, no number from it is used).{% endif %}</p>
<ol class="refs">
{% for ref in r.references %}
  <li id="ref-{{ ref.number }}" value="{{ ref.number }}">{{ ref.citation }} <span class="muted">[{{ ref.verification }}]</span></li>
{% endfor %}
</ol>
{% if r.analysis_method_sources %}
<h3>Sources cited in the analysis methods</h3>
<ul class="refs">
{% for ref in r.analysis_method_sources %}
  <li>[{{ ref.key }}] {{ ref.citation }} <span class="muted">[{{ ref.verification }}]</span></li>
{% endfor %}
</ul>
{% endif %}
</section>

<section id="disclaimer">
<h2>Not a diagnosis</h2>
<p class="banner">{{ r.disclaimer }}</p>
</section>
<footer class="muted">insole {{ r.software.version }} · report schema {{ r.schema }} v{{ r.schema_version }} · {{ r.generated_at }}</footer>
</body>
</html>
"""

_FRAME_LABELS = {"other_foot": "the other foot", "baseline": "the baseline recording",
                 "reference_set": "the reference set", "literature": "the literature"}


def render_html(report: Report) -> str:
    """The page as a string."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    template = env.from_string(_TEMPLATE)
    data = report.to_dict()
    # the figures read the analysis itself (insole.plot), with the recording's layout for the outlines
    analysis, layout = report.session.analysis, report.session.layout
    missing = plot.unavailable(analysis)
    return template.render(
        r=data,
        plotlyjs=Markup(get_plotlyjs()),
        chain=Markup(chain_svg(report.findings)),
        fig_lr=_figure_html(plot.region_shares(analysis), "fig-left-right", missing.get("region_shares")),
        fig_curves=_figure_html(plot.force_curves(analysis), "fig-force-curves", missing.get("force_curves")),
        fig_cop=_figure_html(plot.cop_paths(analysis, layout), "fig-cop", missing.get("cop_paths")),
        fig_maps=_figure_html(plot.load_maps(analysis, layout), "fig-load-maps", missing.get("load_maps")),
        butterfly=plot.BUTTERFLY_ASSUMPTIONS,
        fmt=_fmt,
        frame_label=lambda f: _FRAME_LABELS.get(f, f),
        joint_label=lambda j: JOINT_LABELS.get(j, j),
        sections=SECTIONS,
        clinic_section=CLINIC_SECTION,
        grade_colours=GRADE_COLOURS,
        grade_labels=GRADE_LABELS,
        confidence_levels=CONFIDENCE_LEVELS,
    )


def write_html(report: Report, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render_html(report), encoding="utf-8")
    return path
