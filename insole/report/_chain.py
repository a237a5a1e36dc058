"""The kinetic-chain picture: both legs, the joints the findings point to, one arrow per association.

An inline SVG (no script, no external resource), so it prints and works
offline. The body is seen from behind, so the left leg is on the left, as in
the foot maps. Each finding is a box beside its foot (findings about both
feet or the whole body sit at the top); an arrow runs from the box to each
joint the evidence links it to, labelled with that link's evidence grade.
A joint is highlighted in the colour of the strongest grade pointing at it.
Arrows for expert opinion are dashed: they are hypotheses.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from insole.report._evidence import GRADE_LABELS, GRADE_SHORT, GRADES, JOINT_LABELS
from insole.report._model import Finding

__all__ = ["chain_svg", "GRADE_COLOURS"]

# Colour by grade (weak to strong), chosen to stay distinct in greyscale print.
GRADE_COLOURS = {
    "expert_opinion": "#9e9e9e",
    "weak": "#f2a541",
    "weak_moderate": "#e07b39",
    "moderate": "#c0392b",
    "moderate_strong": "#8e2a5c",
    "strong": "#4a148c",
}
_IDLE = "#ffffff"

_WIDTH, _HEIGHT = 760, 600
# Joint centres (seen from behind: the left leg on the left).
_JOINT_XY = {
    ("low_back", "midline"): (380, 150),
    ("hip", "left"): (335, 205), ("hip", "right"): (425, 205),
    ("knee", "left"): (325, 320), ("knee", "right"): (435, 320),
    ("ankle", "left"): (318, 430), ("ankle", "right"): (442, 430),
    ("foot", "left"): (312, 470), ("foot", "right"): (448, 470),
    ("whole_body", "midline"): (380, 42),
}
_BOX_W, _BOX_H, _BOX_GAP = 200, 56, 8


def _body() -> list[str]:
    """A plain stick figure: head, trunk, pelvis, two legs, two feet."""
    stroke = 'stroke="#566573" stroke-width="7" stroke-linecap="round" fill="none"'
    parts = [
        '<circle cx="380" cy="42" r="24" fill="none" stroke="#566573" stroke-width="4"/>',
        f'<path d="M380 68 L380 190" {stroke}/>',
        f'<path d="M335 205 L425 205" {stroke}/>',
        f'<path d="M380 190 L335 205 M380 190 L425 205" {stroke}/>',
        f'<path d="M335 205 L325 320 L318 430" {stroke}/>',
        f'<path d="M425 205 L435 320 L442 430" {stroke}/>',
        '<rect x="288" y="462" width="48" height="18" rx="8" fill="none" stroke="#566573" stroke-width="4"/>',
        '<rect x="424" y="462" width="48" height="18" rx="8" fill="none" stroke="#566573" stroke-width="4"/>',
        '<text x="312" y="512" font-size="14" fill="#34495e" text-anchor="middle">LEFT</text>',
        '<text x="448" y="512" font-size="14" fill="#34495e" text-anchor="middle">RIGHT</text>',
        '<text x="380" y="530" font-size="11" fill="#566573" text-anchor="middle">(seen from behind)</text>',
    ]
    return parts


def _resolve(joint: str, side: str) -> list[tuple[str, str]]:
    if joint in ("low_back", "whole_body"):
        return [(joint, "midline")]
    if side == "both":
        return [(joint, "left"), (joint, "right")]
    return [(joint, side)]


def _wrap(text: str, width: int) -> tuple[str, str]:
    """The title on two lines of at most ``width`` characters (the second cut with an ellipsis if needed)."""
    if len(text) <= width:
        return text, ""
    cut = text.rfind(" ", 0, width + 1)
    cut = cut if cut > 0 else width
    rest = text[cut:].strip()
    return text[:cut], rest if len(rest) <= width else rest[: width - 1] + "…"


def chain_svg(findings: Sequence[Finding],
              title: str = "Findings and the joints they have been associated with") -> str:
    """The picture as one ``<svg>`` element (text escaped; safe to inline in HTML)."""
    strongest: dict[tuple[str, str], str] = {}
    boxes: dict[str, list[Finding]] = {"left": [], "right": [], "both": []}
    for finding in findings:
        boxes["both" if finding.side not in ("left", "right") else finding.side].append(finding)
        for link in finding.joints:
            for key in _resolve(link.joint, link.side):
                if key not in strongest or GRADES.index(link.grade) > GRADES.index(strongest[key]):
                    strongest[key] = link.grade

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chain" font-family="sans-serif">',
        f'<title>{escape(title)}</title>',
        '<defs>',
    ]
    for grade, colour in GRADE_COLOURS.items():
        out.append(
            f'<marker id="arrow-{grade}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="{colour}"/></marker>'
        )
    out.append('</defs>')
    out += _body()

    for (joint, side), (x, y) in _JOINT_XY.items():
        joint_grade = strongest.get((joint, side))
        fill = GRADE_COLOURS[joint_grade] if joint_grade else _IDLE
        radius = 13 if joint_grade else 9
        label = JOINT_LABELS[joint]
        out.append(
            f'<circle cx="{x}" cy="{y}" r="{radius}" fill="{fill}" stroke="#2c3e50" stroke-width="1.5" '
            f'class="joint{" highlighted" if joint_grade else ""}" data-joint="{joint}" data-side="{side}">'
            f'<title>{escape(side + " " + label if side != "midline" else label)}'
            f'{escape(" — " + GRADE_LABELS[joint_grade]) if joint_grade else ""}</title></circle>'
        )

    arrows: list[str] = []
    labels: list[str] = []
    for column, items in boxes.items():
        for k, finding in enumerate(items):
            if column == "left":
                bx, by = 20, 90 + k * (_BOX_H + _BOX_GAP)
                start_x = bx + _BOX_W
            elif column == "right":
                bx, by = _WIDTH - 20 - _BOX_W, 90 + k * (_BOX_H + _BOX_GAP)
                start_x = bx
            else:
                bx, by = 20 + k * (_BOX_W + _BOX_GAP), 8
                if bx + _BOX_W > 380 - 30:  # keep the top row clear of the head
                    bx, by = _WIDTH - 20 - _BOX_W, 8 + (k - 1) * (_BOX_H + _BOX_GAP)
                start_x = bx + _BOX_W if bx < 380 else bx
            start_y = by + _BOX_H / 2
            side_label = {"left": "left", "right": "right"}.get(finding.side, "both feet")
            first, second = _wrap(finding.title, 29)
            out.append(
                f'<g class="finding-box" data-code="{escape(finding.code)}" data-side="{escape(finding.side)}">'
                f'<rect x="{bx}" y="{by}" width="{_BOX_W}" height="{_BOX_H}" rx="6" fill="#fdfefe" '
                f'stroke="#2c3e50" stroke-width="1.2"/>'
                f'<text x="{bx + 8}" y="{by + 16}" font-size="12" font-weight="bold" fill="#17202a">'
                f'{escape(first)}</text>'
                f'<text x="{bx + 8}" y="{by + 31}" font-size="12" font-weight="bold" fill="#17202a">'
                f'{escape(second)}</text>'
                f'<text x="{bx + 8}" y="{by + 48}" font-size="11" fill="#34495e">'
                f'{escape(side_label)} · confidence {escape(finding.confidence.replace("_", " "))}</text></g>'
            )
            # one arrow per joint: several associations with the same joint share it, labelled with each grade
            targets: dict[tuple[str, str], list[str]] = {}
            for link in finding.joints:
                for key in _resolve(link.joint, link.side):
                    grades = targets.setdefault(key, [])
                    if link.grade not in grades:
                        grades.append(link.grade)
            for key, grades in targets.items():
                grades.sort(key=GRADES.index)
                link_grade = grades[-1]
                jx, jy = _JOINT_XY[key]
                colour = GRADE_COLOURS[link_grade]
                dash = ' stroke-dasharray="6 4"' if link_grade == "expert_opinion" else ""
                # stop short of the joint circle so the arrow head stays visible
                dx, dy = jx - start_x, jy - start_y
                length = max((dx * dx + dy * dy) ** 0.5, 1.0)
                ex, ey = jx - dx / length * 15, jy - dy / length * 15
                arrows.append(
                    f'<line x1="{start_x:.0f}" y1="{start_y:.0f}" x2="{ex:.0f}" y2="{ey:.0f}" '
                    f'stroke="{colour}" stroke-width="2.2"{dash} marker-end="url(#arrow-{link_grade})" '
                    f'class="link" data-code="{escape(finding.code)}" data-joint="{key[0]}" '
                    f'data-side="{key[1]}" data-grade="{link_grade}"><title>'
                    f'{escape(finding.title)} → {escape(JOINT_LABELS[key[0]])}: '
                    f'{escape(", ".join(GRADE_LABELS[g] for g in grades))}</title></line>'
                )
                text = ", ".join(GRADE_SHORT[g] for g in grades)
                width = 10 + 7 * len(text)
                mx, my = start_x + 0.55 * (ex - start_x), start_y + 0.55 * (ey - start_y)
                labels.append(
                    f'<g class="grade-label"><rect x="{mx - width / 2:.0f}" y="{my - 9:.0f}" width="{width}" '
                    f'height="16" rx="3" fill="#ffffff" stroke="{colour}"/><text x="{mx:.0f}" y="{my + 3:.0f}" '
                    f'font-size="10" text-anchor="middle" fill="#17202a">{text}</text></g>'
                )
    out += arrows + labels
    if not findings:
        # in the empty top-left corner, never across the body
        out.append('<text x="20" y="24" font-size="14" text-anchor="start" fill="#566573" class="no-findings">'
                   'No findings flagged</text>')
    # legend
    lx, ly = 20, _HEIGHT - 20
    legend = {"expert_opinion": "hypothesis", "weak": "weak", "weak_moderate": "weak–moderate",
              "moderate": "moderate", "moderate_strong": "moderate–strong", "strong": "strong"}
    for k, grade in enumerate(GRADES):
        x = lx + k * 124
        dash = ' stroke-dasharray="6 4"' if grade == "expert_opinion" else ""
        out.append(f'<line x1="{x}" y1="{ly}" x2="{x + 18}" y2="{ly}" stroke="{GRADE_COLOURS[grade]}" '
                   f'stroke-width="3"{dash}/><text x="{x + 22}" y="{ly + 4}" font-size="10" fill="#17202a">'
                   f'{GRADE_SHORT[grade]} {legend[grade]}</text>')
    out.append('</svg>')
    return "\n".join(out)
