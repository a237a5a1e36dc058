"""The four clinic tests as data: phases, instructions, measures, reference values and their sources.

Nothing here runs a test; ``_results`` and ``_guided`` read these tables.
Every reference value names its source and how far that source was checked
(``Source.verified``):

* ``"abstract read"``: the numbers were read in the source's own abstract;
* ``"secondary source"``: the numbers were read in another text that cites the
  source (a reference page, open calculator code); not checked in the original;
* ``"record only"``: only the bibliographic record was seen (the test's
  description is cited, no number from it is used).

A value whose source could not be checked at all is not used. Where a norm
depends on age, sex (or height, body mass) the ``ReferenceValue.depends_on``
says so, and a comparison is only made for the stratum the patient is in.
The texts say what a value *is*; they never diagnose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Source",
    "Stratum",
    "ReferenceValue",
    "PhaseSpec",
    "MeasureSpec",
    "Protocol",
    "PROTOCOLS",
    "SOURCES",
    "protocol",
    "reference_comparisons",
]


@dataclass(frozen=True)
class Source:
    """A citable source: ``citation``, ``locator`` (DOI or URL), and how far it was ``verified``."""

    key: str
    citation: str
    locator: str
    verified: str
    note: str = ""

    @property
    def short(self) -> str:
        """"Bohannon 2006" from the key "bohannon2006"."""
        name = self.key.rstrip("0123456789")
        return f"{name.upper() if len(name) <= 3 else name.capitalize()} {self.key[len(name):]}"

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "short": self.short, "citation": self.citation, "locator": self.locator,
                "verified": self.verified, "note": self.note}


@dataclass(frozen=True)
class Stratum:
    """One group of a reference table: ``age_min``-``age_max`` years, ``sex`` ("male", "female" or "any")."""

    age_min: float
    age_max: float
    sex: str
    value: float
    low: float | None = None
    high: float | None = None

    def matches(self, age: float | None, sex: str | None) -> bool:
        if age is None or not (self.age_min <= age <= self.age_max):
            return False
        return self.sex == "any" or (sex is not None and sex == self.sex)

    def label(self) -> str:
        who = {"male": "men", "female": "women", "any": "adults"}[self.sex]
        top = f"{self.age_max:g}" if self.age_max < 120 else "+"
        return f"{who} aged {self.age_min:g}-{top}" if top != "+" else f"{who} aged {self.age_min:g}+"


@dataclass(frozen=True)
class ReferenceValue:
    """A reference for one measure of a test.

    ``kind``: "strata" (a table by age and/or sex: compared with the patient's
    stratum), "cut_off" (a threshold with what it was used for), "categories"
    (bands with names), "equation" (a prediction from age, sex, height, mass)
    or "context" (a range to read the result against, no comparison made).
    """

    measure: str
    kind: str
    statement: str
    population: str
    source: str
    unit: str
    depends_on: tuple[str, ...] = ()
    strata: tuple[Stratum, ...] = ()
    cut_off: float | None = None
    categories: tuple[tuple[float, float, str], ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure, "kind": self.kind, "statement": self.statement, "population": self.population,
            "source": self.source, "unit": self.unit, "depends_on": list(self.depends_on),
            "strata": [vars(s) for s in self.strata], "cut_off": self.cut_off,
            "categories": [[lo, hi if hi != float("inf") else None, name] for lo, hi, name in self.categories],
            "note": self.note,
        }


@dataclass(frozen=True)
class PhaseSpec:
    """A phase of a test: its ``name`` (as stored), what the clinician sees, and how the software finds it."""

    name: str
    title: str
    instruction: str
    found_by: str


@dataclass(frozen=True)
class MeasureSpec:
    key: str
    title: str
    unit: str
    how: str


@dataclass(frozen=True)
class Protocol:
    """One clinic test as data.

    ``inputs``: what the clinician enters, with defaults (distances in m, widths
    in mm, durations in s). ``countdown_s``: the test's fixed duration when it
    has one (the guided capture counts it down). ``ends_when``: what ends the
    guided test.
    """

    key: str
    name: str
    purpose: str
    setup: tuple[str, ...]
    patient_instruction: str
    phases: tuple[PhaseSpec, ...]
    measures: tuple[MeasureSpec, ...]
    inputs: Mapping[str, Any]
    ends_when: str
    countdown_s: float | None = None
    needs: tuple[str, ...] = ()
    reference_values: tuple[ReferenceValue, ...] = ()
    cautions: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "name": self.name, "purpose": self.purpose, "setup": list(self.setup),
            "patient_instruction": self.patient_instruction,
            "phases": [vars(p) for p in self.phases], "measures": [vars(m) for m in self.measures],
            "inputs": dict(self.inputs), "ends_when": self.ends_when, "countdown_s": self.countdown_s,
            "needs": list(self.needs), "reference_values": [r.to_dict() for r in self.reference_values],
            "cautions": list(self.cautions), "sources": list(self.sources),
        }


# ---------------------------------------------------------------- sources

SOURCES: Mapping[str, Source] = {s.key: s for s in (
    Source("bohannon1997",
           "Bohannon RW. Comfortable and maximum walking speed of adults aged 20-79 years: reference values and "
           "determinants. Age Ageing 1997;26(1):15-19.",
           "doi:10.1093/ageing/26.1.15", "abstract read",
           "230 healthy volunteers; gait timed over 7.62 m. The abstract gives the range of the age-sex group means; "
           "the per-group table was not read."),
    Source("bohannon2011",
           "Bohannon RW, Andrews AW. Normal walking speed: a descriptive meta-analysis. Physiotherapy "
           "2011;97(3):182-189.",
           "doi:10.1016/j.physio.2010.12.004", "abstract read; per-decade values from a secondary source",
           "41 studies, 23 111 subjects, normal pace over 3-30 m. The abstract gives the extremes (men 40-49: "
           "143.4 cm/s; women 80-99: 94.3 cm/s); the per-decade means are from the Physiopedia '10 Metre Walk "
           "Test' page, which attributes them to this meta-analysis, and agree with both extremes; they were not "
           "checked against the paper's table. The abstract warns that the values may not serve as a standard when "
           "gait is timed over short distances from the command 'go' or with a turn."),
    Source("schmid2007",
           "Schmid A, Duncan PW, Studenski S, Lai SM, Richards L, Perera S, Wu SS. Improvements in speed-based gait "
           "classifications are meaningful. Stroke 2007;38:2096-2100.",
           "doi:10.1161/STROKEAHA.106.475921", "abstract read",
           "Stroke survivors. The velocity classes (household < 0.4 m/s, limited community 0.4-0.8 m/s, full "
           "community > 0.8 m/s) go back to Perry et al., Stroke 1995;26:982-989 (record only). Volume and pages "
           "from the record, not the article."),
    Source("ats2002",
           "ATS Committee on Proficiency Standards for Clinical Pulmonary Function Laboratories. ATS statement: "
           "guidelines for the six-minute walk test. Am J Respir Crit Care Med 2002;166(1):111-117.",
           "doi:10.1164/ajrccm.166.1.at1102", "record only",
           "The statement (approved March 2002) and its contents were seen; its protocol details were not read "
           "here (DOI as cited by other texts). The 30 m course used as the default is the commonly cited ATS "
           "corridor length, not checked in the statement's text."),
    Source("enright1998",
           "Enright PL, Sherrill DL. Reference equations for the six-minute walk in healthy adults. Am J Respir "
           "Crit Care Med 1998;158(5 Pt 1):1384-1387.",
           "doi:10.1164/ajrccm.158.5.9710086", "secondary source",
           "The coefficients were read in open calculator code that cites this paper, not in the paper; the "
           "population (117 men and 173 women aged 40-80) and the DOI likewise, in texts citing it. Use the "
           "prediction as context only."),
    Source("podsiadlo1991",
           "Podsiadlo D, Richardson S. The timed 'Up & Go': a test of basic functional mobility for frail elderly "
           "persons. J Am Geriatr Soc 1991;39(2):142-148.",
           "doi:10.1111/j.1532-5415.1991.tb01616.x", "record only",
           "The test's description (rise from a chair, walk 3 m, turn, walk back, sit down) is cited; no number "
           "from this paper is used."),
    Source("bohannon2006",
           "Bohannon RW. Reference values for the timed up and go test: a descriptive meta-analysis. J Geriatr "
           "Phys Ther 2006;29(2):64-68.",
           "doi:10.1519/00139143-200608000-00004", "abstract read",
           "21 studies of apparently healthy elders. Means (95% CI): 60-69 y 8.1 (7.1-9.0) s, 70-79 y 9.2 "
           "(8.2-10.2) s, 80-99 y 11.3 (10.0-12.7) s; a time above the upper limit of the interval is 'worse than "
           "average'."),
    Source("barry2014",
           "Barry E, Galvin R, Keogh C, Horgan F, Fahey T. Is the Timed Up and Go test a useful predictor of risk "
           "of falls in community dwelling older adults: a systematic review and meta-analysis. BMC Geriatr "
           "2014;14:14.",
           "https://pmc.ncbi.nlm.nih.gov/articles/PMC3924230", "abstract read",
           "Pooled at the 13.5 s cut-off: specificity 0.74 (0.52-0.88), sensitivity 0.31 (0.13-0.57); the TUG "
           "'should not be used in isolation' to identify people at high risk of falls. Author list and journal "
           "details from the record."),
    Source("ohlendorf2020",
           "Ohlendorf D, Kerth K, Osiander W, Holzgreve F, Fraeulin L, Ackermann H, Groneberg DA. Standard reference "
           "values of weight and maximum pressure distribution in healthy adults aged 18-65 years in Germany. "
           "J Physiol Anthropol 2020;39:39.",
           "doi:10.1186/s40101-020-00246-6", "abstract read",
           "416 healthy adults, pressure plate (Zebris FDM-S), habitual standing. Left 50.07 %, right 50.12 %; "
           "rearfoot 54.14 % (left) and 55.09 % (right), forefoot 45.49 % and 44.26 %. The load moved from rearfoot "
           "to forefoot with age (left foot) and to the rearfoot with BMI."),
    Source("quijoux2021",
           "Quijoux F, Nicolai A, Chairi I, et al. A review of center of pressure (COP) variables to quantify "
           "standing balance in elderly people: algorithms and open-access code. Physiol Rep 2021;9(22):e15067.",
           "doi:10.14814/phy2.15067", "abstract read",
           "Definitions of COP sway variables (95% confidence ellipse area, mean velocity, path length); "
           "no norm from it is used."),
)}


# ---------------------------------------------------------------- reference values

_WALK_SPEED_DECADES = (  # (age_min, age_max, men, women) m/s, normal pace; see SOURCES["bohannon2011"]
    (20, 29, 1.36, 1.34), (30, 39, 1.43, 1.34), (40, 49, 1.43, 1.39), (50, 59, 1.43, 1.31),
    (60, 69, 1.34, 1.24), (70, 79, 1.26, 1.13), (80, 99, 0.97, 0.94),
)

TEN_METRE_REFERENCES = (
    ReferenceValue(
        "gait_speed_m_s", "strata", "mean normal (comfortable) walking speed of apparently healthy adults",
        "apparently healthy adults, by sex and decade", "bohannon2011", "m/s", ("age", "sex"),
        tuple(Stratum(a, b, sex, v) for a, b, men, women in _WALK_SPEED_DECADES
              for sex, v in (("male", men), ("female", women))),
        note="comfortable pace only; a mean, not a lower limit of normal",
    ),
    ReferenceValue(
        "gait_speed_m_s", "context", "range of the age-sex group means of comfortable (1.27-1.46 m/s) and "
        "maximum (1.75-2.53 m/s) walking speed", "230 healthy adults aged 20-79", "bohannon1997", "m/s",
        ("age", "sex", "height"),
        note="the per-group table was not read: no group is compared",
    ),
    ReferenceValue(
        "gait_speed_m_s", "categories", "walking-speed classes of community ambulation",
        "stroke survivors", "schmid2007", "m/s", (),
        categories=((0.0, 0.4, "household ambulation"), (0.4, 0.8, "limited community ambulation"),
                    (0.8, float("inf"), "full community ambulation")),
        note="defined in stroke survivors; shown for context in other patients",
    ),
)

SIX_MINUTE_REFERENCES = (
    ReferenceValue(
        "distance_m", "equation", "predicted six-minute walk distance (Enright & Sherrill equations): men "
        "7.57 x height_cm - 5.02 x age - 1.76 x weight_kg - 309 m; women 2.11 x height_cm - 2.29 x weight_kg "
        "- 5.78 x age + 667 m", "healthy adults about 40-80 years", "enright1998", "m",
        ("age", "sex", "height", "weight"),
        note="coefficients from a secondary source; a prediction for healthy adults, not a limit of normal",
    ),
)

TUG_REFERENCES = (
    ReferenceValue(
        "total_time_s", "strata", "mean Timed Up and Go time (95% confidence interval) of apparently healthy "
        "elders", "apparently healthy adults 60-99 years, by age group", "bohannon2006", "s", ("age",),
        (Stratum(60, 69, "any", 8.1, 7.1, 9.0), Stratum(70, 79, "any", 9.2, 8.2, 10.2),
         Stratum(80, 99, "any", 11.3, 10.0, 12.7)),
        note="the source reads a time above the interval's upper limit as worse than average; not sex-specific",
    ),
    ReferenceValue(
        "total_time_s", "cut_off", "13.5 s, the cut-off commonly used to flag a higher risk of falls",
        "community-dwelling older adults", "barry2014", "s", (), cut_off=13.5,
        note="limited ability to predict falls (pooled sensitivity 0.31, specificity 0.74); not to be used alone",
    ),
)

BALANCE_REFERENCES = (
    ReferenceValue(
        "left_load_pct", "strata", "mean share of body weight on the left foot in habitual standing",
        "416 healthy adults 18-65 years (pressure plate)", "ohlendorf2020", "%", ("age", "BMI"),
        (Stratum(18, 65, "any", 50.07),),
        note="measured on a pressure plate, not in shoes",
    ),
    ReferenceValue(
        "rearfoot_load_pct", "strata", "mean rearfoot share of each foot's load in habitual standing "
        "(left 54.14 %, right 55.09 %)", "416 healthy adults 18-65 years (pressure plate)", "ohlendorf2020", "%",
        ("age", "BMI"), (Stratum(18, 65, "any", 54.6),),
        note="the mean of the two feet; the plate's forefoot/rearfoot split is not the insole's region split",
    ),
    ReferenceValue(
        "ellipse_area_mm2", "context", "no insole-transferable norm for COP sway was found: sway is compared "
        "between eyes open and closed (Romberg quotient) and with the patient's earlier tests",
        "", "quijoux2021", "mm2", (),
        note="sway values depend on the device, the stance width and the filter",
    ),
)


# ---------------------------------------------------------------- protocols

PROTOCOLS: Mapping[str, Protocol] = {p.key: p for p in (
    Protocol(
        key="10mwt",
        name="10-metre walk test",
        purpose="walking speed over the middle of a straight walkway, at comfortable or fast pace",
        setup=("Mark a straight walkway: start line, end line, and the timed middle (default 14 m with the "
               "middle 10 m timed; enter other distances with --walkway-m and --timed-m).",
               "The patient stands behind the start line; walking aids as usual (note them).",
               "Comfortable pace: 'walk at your usual, comfortable speed'. Fast pace (--pace fast): 'walk as fast "
               "as you safely can'."),
        patient_instruction="When I say go, walk at your comfortable speed past the end line and stop there.",
        phases=(
            PhaseSpec("standing", "Standing at the start", "Ready: the patient stands still behind the start line.",
                      "both feet loaded, no steps"),
            PhaseSpec("acceleration", "Speeding up", "Walking the first metres (not timed).",
                      "first toe off to the body passing the start of the timed metres"),
            PhaseSpec("timed", "Timed metres", "The timed middle of the walkway.",
                      "body position from the steps: step length = walkway / steps"),
            PhaseSpec("deceleration", "Slowing down", "Walking the last metres (not timed).",
                      "end of the timed metres to the last heel strike"),
            PhaseSpec("standing", "Stopped", "The patient stands at the end line.", "no step for 1.2 s"),
        ),
        measures=(
            MeasureSpec("gait_speed_m_s", "Gait speed", "m/s", "timed metres / time to walk them"),
            MeasureSpec("timed_s", "Time over the timed metres", "s", "between the body's crossings"),
            MeasureSpec("steps_total", "Steps", "steps", "heel strikes from the first step to standing"),
            MeasureSpec("cadence_steps_per_min", "Cadence", "steps/min", "steps in the timed metres"),
            MeasureSpec("step_length_m", "Mean step length", "m", "walkway / (steps - 1)"),
        ),
        inputs={"walkway_m": 14.0, "timed_m": 10.0, "pace": "comfortable"},
        ends_when="when the patient has walked and stood still for 1.5 s",
        reference_values=TEN_METRE_REFERENCES,
        cautions=("The speed rests on the walkway length you enter and on the patient stopping at the end line; "
                  "a stop in the middle makes the test incomplete.",),
        sources=("bohannon2011", "bohannon1997", "schmid2007"),
    ),
    Protocol(
        key="6mwt",
        name="6-minute walk test",
        purpose="distance walked in six minutes back and forth along a straight course (endurance)",
        setup=("Mark a straight course with a cone at each end (default 30 m between the cones; enter the "
               "length with --course-m).",
               "The patient may slow down, stop and rest, and walks on as soon as able; the clock runs on.",
               "With the insoles' gyroscope the software counts the turns itself; without one, mark each "
               "length as the patient rounds a cone (type 'lap' and Enter)."),
        patient_instruction="Walk as far as you can in six minutes, back and forth around the cones; do not run.",
        phases=(
            PhaseSpec("standing", "Ready", "The patient stands at the first cone.", "both feet loaded"),
            PhaseSpec("length", "Length", "Walking between the cones.", "gait events between turns"),
            PhaseSpec("turn", "Turn", "Rounding a cone.", "gyroscope heading change (or a lap mark)"),
        ),
        measures=(
            MeasureSpec("distance_m", "Distance", "m",
                        "course length x lengths completed + the part of the last length (from its steps)"),
            MeasureSpec("lengths_completed", "Lengths", "lengths", "turns counted"),
            MeasureSpec("cadence_steps_per_min", "Cadence per minute", "steps/min", "heel strikes per minute"),
            MeasureSpec("stance_time_si_pct", "Stance-time symmetry per minute", "%", "(R - L) / mean x 100"),
            MeasureSpec("rest_s", "Rests", "s", "pauses without a step longer than 1.2 s"),
        ),
        inputs={"course_m": 30.0, "duration_s": 360.0},
        ends_when="six minutes after the first step",
        countdown_s=360.0,
        needs=("gyroscope or lap marks",),
        reference_values=SIX_MINUTE_REFERENCES,
        cautions=("The six minutes are timed from the first step the insoles see, not from the word 'go'.",),
        sources=("ats2002", "enright1998"),
    ),
    Protocol(
        key="tug",
        name="Timed Up and Go",
        purpose="time to rise from a chair, walk 3 m, turn, walk back and sit down",
        setup=("A chair with armrests against a wall; a line 3 m in front of it.",
               "The patient sits with the back against the chair, feet on the floor; usual footwear and aid.",
               "Turns are found with the insoles' gyroscope; without one, type 'turn' and Enter at each turn."),
        patient_instruction="When I say go, stand up, walk to the line at your normal pace, turn, walk back and "
                            "sit down again.",
        phases=(
            PhaseSpec("seated", "Seated", "The patient sits, back against the chair.",
                      "summed load below half the standing level"),
            PhaseSpec("sit_to_stand", "Standing up", "Rising from the chair.",
                      "load leaves the seated level to where it settles at the standing level"),
            PhaseSpec("walk_out", "Walking out", "Towards the line.", "standing reached to the first turn"),
            PhaseSpec("turn_out", "Turning", "At the line.", "gyroscope: the turning swings"),
            PhaseSpec("walk_back", "Walking back", "Towards the chair.", "between the two turns"),
            PhaseSpec("turn_back", "Turning to sit", "In front of the chair.", "gyroscope: the turning swings"),
            PhaseSpec("stand_to_sit", "Sitting down", "Lowering onto the chair.",
                      "end of the second turn to the load reaching the seated level"),
            PhaseSpec("seated", "Seated again", "Back on the chair.", "summed load at the seated level"),
        ),
        measures=(
            MeasureSpec("total_time_s", "Total time", "s", "start of rising to seated again"),
            MeasureSpec("sit_to_stand_s", "Sit-to-stand", "s", "load transition"),
            MeasureSpec("stand_to_sit_s", "Stand-to-sit", "s", "load transition from its start"),
            MeasureSpec("turn_out_s", "First turn", "s", "turning swings"),
            MeasureSpec("turn_back_s", "Second turn", "s", "turning swings"),
        ),
        inputs={"walk_out_m": 3.0},
        ends_when="when the patient is seated again for 1 s after walking",
        needs=("gyroscope or turn marks",),
        reference_values=TUG_REFERENCES,
        cautions=("The total is timed from the start of rising (the insoles see it), not from the word 'go'; "
                  "a stopwatch started at 'go' adds the patient's reaction time.",),
        sources=("podsiadlo1991", "bohannon2006", "barry2014"),
    ),
    Protocol(
        key="balance",
        name="Standing balance (eyes open, eyes closed)",
        purpose="weight distribution and centre-of-pressure sway in quiet standing, eyes open then closed",
        setup=("The patient stands still, feet together (or at the width entered with --stance-width-mm, the "
               "distance between the feet's centre lines), arms by the sides, looking ahead.",
               "Stand close by for safety during the eyes-closed period."),
        patient_instruction="Stand still with your arms by your sides and look ahead; when I say so, close your "
                            "eyes and keep standing still.",
        phases=(
            PhaseSpec("eyes_open", "Eyes open", "Stand still, look ahead.", "the guided capture's instruction"),
            PhaseSpec("eyes_closed", "Eyes closed", "Close your eyes and stand still.",
                      "the guided capture's instruction"),
        ),
        measures=(
            MeasureSpec("left_load_pct", "Load on the left foot", "%", "mean share of the summed load"),
            MeasureSpec("rearfoot_load_pct", "Rearfoot share", "%", "of each foot's load (midfoot the rest)"),
            MeasureSpec("path_length_mm", "COP path length", "mm", "length of the low-passed sway path"),
            MeasureSpec("ellipse_area_mm2", "95% ellipse area", "mm2", "pi x 5.991 x sqrt(det covariance)"),
            MeasureSpec("mean_velocity_mm_s", "Mean COP velocity", "mm/s", "path length / duration"),
            MeasureSpec("romberg_quotient", "Romberg quotient", "ratio", "eyes closed / eyes open (area, path)"),
        ),
        inputs={"stance_width_mm": 100.0, "condition_s": 30.0},
        ends_when="after 30 s with the eyes open and 30 s with the eyes closed",
        countdown_s=30.0,
        reference_values=BALANCE_REFERENCES,
        cautions=("The two feet's COPs are combined assuming parallel feet with the heels level, their centre "
                  "lines the stance width apart; medial-lateral sway scales with that assumption.",),
        sources=("ohlendorf2020", "quijoux2021"),
    ),
)}


def protocol(key: str) -> Protocol:
    if key not in PROTOCOLS:
        raise ValueError(f"unknown clinic test {key!r}; choose from {', '.join(PROTOCOLS)}")
    return PROTOCOLS[key]


def reference_comparisons(test: str, measures: Mapping[str, Any], subject: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each reference value of ``test`` next to the result: the value, the reference, its source, a neutral sentence.

    ``subject`` may give ``age_years``, ``sex`` ("male"/"female"), ``height_cm``
    and ``mass_kg``; a stratified norm is compared only for the patient's own
    stratum, and says which it was. ``pace`` "fast" leaves the comfortable-pace
    norms out.
    """
    out = []
    age = subject.get("age_years")
    sex = subject.get("sex")
    for ref in protocol(test).reference_values:
        value = measures.get(ref.measure)
        entry: dict[str, Any] = {**ref.to_dict(), "value": value, "source_detail": SOURCES[ref.source].to_dict()}
        entry["compared"] = False
        if ref.kind == "strata" and test == "10mwt" and subject.get("pace") == "fast":
            entry["comparison"] = "not compared: the reference is for comfortable pace"
        elif ref.kind == "strata":
            match = [s for s in ref.strata if s.matches(age, sex)]
            if not match:
                needs = " and ".join(d for d in ref.depends_on if d in ("age", "sex"))
                entry["comparison"] = (f"not compared: the reference depends on {needs}; "
                                       f"give the patient's {needs} for the matching group")
            elif value is None or value != value:
                entry["comparison"] = "not compared: the result is not available"
            else:
                stratum = match[0]
                entry.update(compared=True, stratum=vars(stratum), reference_value=stratum.value)
                span = (f" (95% CI {stratum.low:g}-{stratum.high:g} {ref.unit})" if stratum.low is not None else "")
                relation = "above" if value > stratum.value else "below" if value < stratum.value else "at"
                entry["comparison"] = (f"{value:.3g} {ref.unit} is {relation} the reference mean of "
                                       f"{stratum.value:g} {ref.unit}{span} for {stratum.label()}")
                if stratum.high is not None and value > stratum.high:
                    entry["comparison"] += "; above the interval's upper limit"
        elif ref.kind == "cut_off" and value is not None and value == value:
            entry.update(compared=True, reference_value=ref.cut_off)
            side = "at or above" if value >= ref.cut_off else "below"
            entry["comparison"] = f"{value:.3g} {ref.unit} is {side} the {ref.cut_off:g} {ref.unit} cut-off"
        elif ref.kind == "categories" and value is not None and value == value:
            name = next(c[2] for c in ref.categories if c[0] <= value < c[1])
            entry.update(compared=True, category=name)
            entry["comparison"] = f"{value:.3g} {ref.unit} falls in the class '{name}' ({ref.population})"
        elif ref.kind == "equation":
            predicted = _enright(age, sex, subject.get("height_cm"), subject.get("mass_kg"))
            if predicted is None or value is None or value != value:
                entry["comparison"] = "not compared: the prediction needs age, sex, height and body mass"
            else:
                entry.update(compared=True, reference_value=predicted, percent_of_predicted=100.0 * value / predicted)
                entry["comparison"] = (f"{value:.0f} m is {100.0 * value / predicted:.0f} % of the {predicted:.0f} m "
                                       f"predicted for this age, sex, height and mass")
        else:
            entry["comparison"] = "context only: no comparison is made"
        out.append(entry)
    return out


def _enright(age: float | None, sex: str | None, height_cm: float | None, mass_kg: float | None) -> float | None:
    if age is None or height_cm is None or mass_kg is None or sex not in ("male", "female"):
        return None
    if sex == "male":
        return 7.57 * height_cm - 5.02 * age - 1.76 * mass_kg - 309.0
    return 2.11 * height_cm - 2.29 * mass_kg - 5.78 * age + 667.0
