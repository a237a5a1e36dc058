"""The evidence table as data: what each finding is, what it is compared with, what it has been associated with.

Everything here comes from ``shared/research/clinical-evidence.md`` (the
project's evidence base). Reference numbers are that document's numbers, so a
reader can trace every statement back to it. Only references whose abstract,
structured summary or excerpt was read (flag **[A]** there) are cited; where
some bibliographic detail was filled in from memory (**[M]**) or not seen, the
citation leaves that detail out and ``verification`` says so. Title-only
records (**[T]**) and UNVERIFIED values are never cited.

Grades follow the evidence base's rubric (section 0.2):

* ``strong``: systematic review / meta-analysis of prospective studies, or
  several consistent prospective cohorts;
* ``moderate``: large cross-sectional studies, several consistent case-control
  studies, or a single prospective cohort;
* ``weak``: small or single studies, small effects, or conflicting results;
* ``expert_opinion``: mechanistic reasoning, narrative reviews, standing or lab
  experiments in healthy people, preprints.

Ranges in the evidence base ("Weak-Moderate") are kept as their own grades
(``weak_moderate``, ``moderate_strong``); a range counts at its lower end when
it limits a finding's confidence.

Wording rule (section 0.1 of the evidence base): a pattern is "consistent
with" or "has been associated with" something; nothing here says "causes",
"you have" or "indicates".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "GRADES",
    "GRADE_LABELS",
    "CONFIDENCE_LEVELS",
    "JOINTS",
    "JOINT_LABELS",
    "Reference",
    "JointLink",
    "ASSOCIATIONS",
    "MEASURE_MATCHES",
    "capped_grade",
    "FindingSpec",
    "REFERENCES",
    "FINDINGS",
    "DATASET_CITATIONS",
    "METHODS_REFERENCES",
    "GRADE_SHORT",
    "DISCLAIMER",
    "EVIDENCE_SOURCE",
    "grade_confidence",
    "lower_confidence",
]

EVIDENCE_SOURCE = "insole evidence base (shared/research/clinical-evidence.md), reference numbers as there"

# Ordered weakest to strongest.
GRADES: tuple[str, ...] = ("expert_opinion", "weak", "weak_moderate", "moderate", "moderate_strong", "strong")
GRADE_LABELS: Mapping[str, str] = {
    "expert_opinion": "Expert opinion / hypothesis",
    "weak": "Weak",
    "weak_moderate": "Weak–Moderate",
    "moderate": "Moderate",
    "moderate_strong": "Moderate–Strong",
    "strong": "Strong",
}
GRADE_SHORT: Mapping[str, str] = {
    "expert_opinion": "EO", "weak": "W", "weak_moderate": "W–M", "moderate": "M",
    "moderate_strong": "M–S", "strong": "S",
}

# Ordered lowest to highest.
CONFIDENCE_LEVELS: tuple[str, ...] = ("very_low", "low", "moderate", "high")

# A grade limits confidence at the lower end of its range.
_GRADE_CONFIDENCE: Mapping[str, str] = {
    "expert_opinion": "very_low",
    "weak": "low",
    "weak_moderate": "low",
    "moderate": "moderate",
    "moderate_strong": "moderate",
    "strong": "high",
}


def grade_confidence(grade: str) -> str:
    """The highest confidence a statement resting on evidence of ``grade`` can carry."""
    return _GRADE_CONFIDENCE[grade]


def lower_confidence(*levels: str) -> str:
    """The lowest of the given confidence levels."""
    return min(levels, key=CONFIDENCE_LEVELS.index)


JOINTS: tuple[str, ...] = ("foot", "ankle", "knee", "hip", "low_back", "whole_body")
JOINT_LABELS: Mapping[str, str] = {
    "foot": "foot",
    "ankle": "ankle / shin",
    "knee": "knee",
    "hip": "hip",
    "low_back": "lower back",
    "whole_body": "whole body (balance, falls)",
}

DISCLAIMER = (
    "Not a diagnosis. This report describes how the feet loaded the insoles during this recording and what "
    "published studies have associated with similar patterns. Pain, or any finding flagged as notable, "
    "should be discussed with a clinician/physiotherapist."
)


@dataclass(frozen=True)
class Reference:
    """One cited source. ``number`` is its number in the evidence base; ``verification`` what was read."""

    number: int
    citation: str
    verification: str

    def to_dict(self) -> dict[str, object]:
        return {"number": self.number, "citation": self.citation, "verification": self.verification}


_READ = "abstract/summary read"


def _ref(number: int, citation: str, note: str = "") -> Reference:
    return Reference(number, citation, _READ + (f"; {note}" if note else ""))


REFERENCES: Mapping[int, Reference] = {r.number: r for r in (
    _ref(2, "Buldt AK, Forghany S, Landorf KB, Murley GS, Levinger P, Menz HB. Centre of pressure characteristics "
            "in normal, planus and cavus feet. J Foot Ankle Res 2018;11:3."),
    _ref(5, "Liao S, Jarvis HL, Liu A, Nester CJ, Bowden PP, Jones RK, Xiong K. Association between foot types "
            "defined by static and dynamic measures, and the centre of pressure during gait. J Foot Ankle Res "
            "2014;7(Suppl 1):A55."),
    _ref(6, "Effect of foot morphology on center-of-pressure excursion during barefoot walking. J Am Podiatr Med "
            "Assoc 2008;98(2):112–117.", "authors not verified"),
    _ref(10, "Xiong S, Goonetilleke RS, Witana CP, Weerasinghe TW, Au EYL. Foot arch characterization: a review, "
             "a new metric, and a comparison. J Am Podiatr Med Assoc 2010;100:14."),
    _ref(11, "Molloy JM, Christie DS, Teyhen DS, et al. Effect of running shoe type on the distribution and "
             "magnitude of plantar pressures in individuals with low- or high-arched feet. J Am Podiatr Med Assoc "
             "2009;99(4):330–338."),
    _ref(13, "Menz HB, Dufour AB, Riskowski JL, Hillstrom HJ, Hannan MT. Foot posture, foot function and low back "
             "pain: the Framingham Foot Study. Rheumatology (Oxford) 2013."),
    _ref(15, "Framingham Foot Study: associations of foot posture (modified arch index) and function (CPEI) with "
             "lower-extremity joint pain. PMC4039193.", "authors not seen"),
    _ref(16, "Hagedorn TJ, Dufour AB, Riskowski JL, Hillstrom HJ, Menz HB, Casey VA, Hannan MT. Foot disorders, "
             "foot posture, and foot function: the Framingham Foot Study. PLoS One 2013;8(9):e74364."),
    _ref(17, "Gross KD, Felson DT, Niu J, Hunter DJ, Guermazi A, Roemer FW, Dufour AB, Gensure RH, Hannan MT. "
             "Association of flat feet with knee pain and cartilage damage in older adults. Arthritis Care Res. "
             "doi:10.1002/acr.20431.", "year not verified"),
    _ref(18, "Levinger P, Menz HB, Fotoohabadi MR, Feller JA, Bartlett JR, Bergman NR. Foot posture in people "
             "with medial compartment knee osteoarthritis. J Foot Ankle Res 2010;3:29."),
    _ref(19, "A positive association between Foot Posture Index and medial compartment knee osteoarthritis in "
             "Moroccan people. Open Rheumatol J 2014;8:96.", "authors not seen"),
    _ref(20, "Paterson KL, Metcalf BR, Campbell PK, Bennell KL, Li P, De Silva AP, Hinman RS. Associations "
             "between static foot posture, dynamic in-shoe plantar foot forces and knee pain in people with "
             "medial knee osteoarthritis. Osteoarthritis Cartilage 2024. doi:10.1016/j.joca.2024.04.023."),
    _ref(21, "Karataş L, Utkan Karasu A. Association of medial longitudinal arch height and stiffness with lower "
             "extremity alignment, pain, and disease severity in knee osteoarthritis. Arch Rheumatol.",
         "year not seen"),
    _ref(23, "Neal BS, Griffiths IB, Dowling GJ, Murley GS, Munteanu SE, Franettovich Smith MM, Collins NJ, "
             "Barton CJ. Foot posture as a risk factor for lower limb overuse injury: a systematic review and "
             "meta-analysis. J Foot Ankle Res 2014;7:55."),
    _ref(25, "Thijs Y, Van Tiggelen D, Roosen P, De Clercq D, Witvrouw E. A prospective study on gait-related "
             "intrinsic risk factors for patellofemoral pain. Clin J Sport Med 2007;17(6):437–445."),
    _ref(27, "Khamis S, Yizhar Z. Effect of feet hyperpronation on pelvic alignment in a standing position. Gait "
             "Posture 2007;25(1):127–134."),
    _ref(28, "Sullivan J, Burns J, Adams R, Pappas E, Crosbie J. Plantar heel pain and foot loading during normal "
             "walking. Gait Posture 2015;41(2):688–693."),
    _ref(29, "Wearing SC, Smeathers JE, Urry SR. The effect of plantar fasciitis on vertical foot-ground reaction "
             "force. Clin Orthop Relat Res 2003 (April)."),
    _ref(30, "Vertical ground reaction forces in patients with unilateral plantar heel pain – a pilot study. Gait "
             "Posture 2000;11(1):62–66 (PMID 10664487).", "authors not seen"),
    _ref(32, "Wong DWC, Chow EMW, Liyeung LL, Wang J, Mak TCT, Cheung JCW, Ni M, Leung AKL. Does hallux valgus "
             "impair medial forefoot loading? A meta-analysis of plantar pressure distribution (PMC12339410).",
         "journal and year not seen"),
    _ref(33, "Hallux valgus and plantar pressure loading: the Framingham Foot Study (PMC3819471; 3205 "
             "participants).", "authors and journal not seen"),
    _ref(34, "Gait parameters associated with hallux valgus: a systematic review. J Foot Ankle Res 2013;6:9.",
         "authors not verified"),
    _ref(35, "Hofmann UK, Götze M, Wiesenreiter K, Müller O, Wünschel M, Mittag F. Transfer of plantar pressure "
             "from the medial to the central forefoot in patients with hallux valgus. BMC Musculoskelet Disord "
             "2019;20."),
    _ref(36, "Mickle KJ, Munro BJ, Lord SR, Menz HB, Steele JR. Gait, balance and plantar pressures in older "
             "people with toe deformities. Gait Posture 2011;34:347."),
    _ref(37, "Comparison of plantar pressures and contact area between normal and cavus foot. Gait Posture "
             "2014;39(2):789–792 (PMID 24220205).", "authors not seen"),
    _ref(39, "Schmidt H, Sauer LD, Lee SY, Saliba S, Hertel J. Increased in-shoe lateral plantar pressures with "
             "chronic ankle instability.", "journal and year not verified"),
    _ref(40, "Wan DP, Bao HL, Wang JP, Wei J, Ma JB, Yao SX, Xu C. Plantar pressure distribution and posture "
             "balance during walking in individuals with unilateral chronic ankle instability. Med Sci Monit "
             "2023;29:e940252."),
    _ref(41, "Webster KA, Vincent L, Docherty CA. Peak plantar pressures during walking in chronic ankle "
             "instability and healthy patients (abstract). Br J Sports Med 2015;49(Suppl 1):A22."),
    _ref(43, "Collins JJ, Whittle MW. Impulsive forces during walking and their clinical implications. Clin "
             "Biomech 1989;4(3):179–187."),
    _ref(44, "Skeletal transients on heel strike in normal walking with different footwear (tibia/skull "
             "accelerometry). J Biomech 1980.", "authors not verified"),
    _ref(45, "Relationship between vertical ground reaction force and speed during walking, slow jogging, and "
             "running. Clin Biomech 1996;11(5):253–259.", "authors not verified"),
    _ref(46, "Davis IS, Bowser BJ, Mullineaux DR. Greater vertical impact loading in female runners with "
             "medically diagnosed injuries: a prospective investigation. Br J Sports Med 2016;50(14):887–892."),
    _ref(47, "Schmida EA, Wille CM, Stiffler-Joachim MR, Kliethermes SA, Heiderscheit BC. Vertical loading rate "
             "is not associated with running injury, regardless of calculation method. Med Sci Sports Exerc "
             "2022;54(8):1382–1388."),
    _ref(49, "Secondary gait changes in patients with medial compartment knee osteoarthritis: increased load at "
             "the ankle, knee, and hip during walking. Arthritis Rheum 2005;52(9). doi:10.1002/art.21262.",
         "authors not verified"),
    _ref(53, "BIOMCH-L mailing-list summary on the asymmetry index and the 10% cut-off (2004)."),
    _ref(55, "Expressing gait-line symmetry in able-bodied gait. Dynamic Medicine 2008;7:17 (77 subjects, CDG "
             "in-sole system).", "authors not seen"),
    _ref(56, "Riskowski JL, Hagedorn TJ, Dufour AB, Hannan MT. Functional foot symmetry and its relation to lower "
             "extremity physical performance in older adults: the Framingham Foot Study. J Biomech "
             "2012;45(10):1796–1802."),
    _ref(60, "Wafai L, Zayegh A, Woulfe J, Aziz SM, Begg R. Identification of foot pathologies based on plantar "
             "pressure asymmetry. Sensors 2015;15:20392–20408."),
    _ref(61, "Corrigan P, Felson DT, Lewis CL, Neogi T, LaValley MP, Gross KD, Nevitt MC, Lewis CE, Torner JC, "
             "Stefanik JJ. Relation of temporal asymmetry during walking to 2-year knee pain outcomes in those "
             "with mild-to-moderate unilateral knee pain (MOST). Arthritis Care Res 2023;75(8):1735–1743."),
    _ref(62, "Wiik AV, Aqil A, Brevadt M, Jones G, Cobb J. Abnormal ground reaction forces lead to a general "
             "decline in gait speed in knee osteoarthritis patients. World J Orthop 2017;8(4):322–328."),
    _ref(64, "Hausdorff JM, Cudkowicz ME, Firtion R, Wei JY, Goldberger AL. Gait variability and basal ganglia "
             "disorders: stride-to-stride variations of gait cycle timing in Parkinson's disease and "
             "Huntington's disease. Mov Disord 1998;13(3). doi:10.1002/mds.870130310."),
    _ref(65, "Hausdorff JM, Mitchell SL, Firtion R, Peng CK, Cudkowicz ME, Wei JY, Goldberger AL. Altered fractal "
             "dynamics of gait: reduced stride-interval correlations with aging and Huntington's disease. J Appl "
             "Physiol 1997;82(1):262–269."),
    _ref(66, "Hausdorff JM. Gait variability: methods, modeling and meaning. J Neuroeng Rehabil 2005;2:19."),
    _ref(67, "Gait variability and fall risk in community-living older adults: a 1-year prospective study "
             "(force-sensitive insoles; PMID 11494184).", "authors and journal not verified"),
    _ref(71, "Verghese J, Holtzer R, Lipton RB, Wang C. Quantitative gait markers and incident fall risk in "
             "older adults. J Gerontol A Biol Sci Med Sci 2009;64A(8):896–901."),
    _ref(72, "Hamacher D, Singh NB, Van Dieën JH, Heller MO, Taylor WR. Kinematic measures for assessing gait "
             "stability in elderly individuals: a systematic review. J R Soc Interface 2011;8(65):1682–1698."),
    _ref(74, "Gaßner H, Jensen D, Marxreiter F, et al. Gait variability as digital biomarker of disease severity "
             "in Huntington's disease. J Neurol 2020;267(6):1594–1601."),
    _ref(75, "Kirtley C, Whittle MW, Jefferson RJ. Influence of walking speed on gait parameters. J Biomed Eng "
             "1985;7(4):282–288 (regression as quoted with contributed normative data)."),
    _ref(76, "Pistacchi M, Gioulis M, Sanson F, et al. Gait analysis and clinical correlations in early "
             "Parkinson's disease. Funct Neurol 2017;32(1):28–34."),
    _ref(77, "Less is more – estimation of the number of strides required to assess gait variability in "
             "spatially confined settings. Front Aging Neurosci 2019 (PMC6348278).", "authors not seen"),
    _ref(78, "Melvin JMA, Preece S, Nester CJ, Howard D. An investigation into plantar pressure measurement "
             "protocols for footwear research. Gait Posture 2014;40:682–687."),
    _ref(80, "Bouchouras G, Sofianidis G, Charisi S, Pavlopoulos C. Vertical ground reaction forces waveform "
             "flattening during gait in women with knee osteoarthritis. arXiv:2510.16942 (2025).",
         "preprint, not peer reviewed"),
    _ref(81, "Zeni JA Jr, Higginson JS. Differences in gait parameters between healthy subjects and persons with "
             "moderate and severe knee osteoarthritis: a result of altered walking speed? Clin Biomech "
             "2009;24(4):372–378."),
    _ref(82, "Effects of walking speed on gait biomechanics in healthy participants: a systematic review and "
             "meta-analysis. Syst Rev 2019. doi:10.1186/s13643-019-1063-z.", "authors not verified"),
    _ref(97, "The design and application of simplified insole-based prototypes with plantar pressure measurement "
             "for fast screening of flat-foot. Sensors 2018;18(11):3617.", "authors not seen"),
    _ref(92, "Shakoor N, Dua A, Thorp L, Mikolaitis RA, Wimmer MA, Foucher KC, Fogg LF, Block JA. Asymmetric "
             "loading and bone mineral density at the asymptomatic knees of patients with unilateral hip "
             "osteoarthritis. Arthritis Rheum 2011;63(12):3853–3858."),
    _ref(93, "Interlimb gait differences and hip strategies in symptomatic medial knee OA. J Orthop Res "
             "2009;27:78–83. doi:10.1002/jor.20718.", "authors not verified"),
)}

# Where the real reference recordings come from (dataset citations given in the
# datasets' own READMEs; these are data sources, not clinical evidence).
DATASET_CITATIONS: Mapping[str, str] = {
    "gaitndd": (
        "PhysioNet Gait in Neurodegenerative Disease Database v1.0.0 (ODC-By 1.0): Hausdorff JM et al. J Appl "
        "Physiol 2000;88:2045–2053; Hausdorff JM et al. J Appl Physiol 1997;82:262–269; Goldberger AL et al. "
        "Circulation 2000;101(23):e215–e220."
    ),
    "gaitpdb": (
        "PhysioNet Gait in Parkinson's Disease v1.0.0 (ODC-By 1.0): Goldberger AL et al. Circulation "
        "2000;101(23):e215–e220; Yogev G et al. Eur J Neurosci 2005;22:1248–1256; Hausdorff JM et al. Eur J "
        "Neurosci 2007;26:2369–2375; Frenkel-Toledo S et al. Mov Disord 2005;20(9):1109–1114."
    ),
}


# What a cited study found, for the pattern and the joint of a link.
ASSOCIATIONS: tuple[str, ...] = ("positive", "null", "protective", "conflicting", "other_outcome")
# How close our measure is to the one the study used (closest first).
MEASURE_MATCHES: tuple[str, ...] = ("same", "validated_proxy", "proxy", "different")


def capped_grade(grade: str, measure_match: str) -> str:
    """The grade a link can carry for our measure: the study's own grade on the study's measure ("same"), one
    step lower on a validated proxy (the proxy adds its own error); a link on an unvalidated proxy or a different
    measure is not drawn, and its grade says how far from a hypothesis it is on our measure (expert opinion)."""
    if measure_match == "same":
        return grade
    if measure_match == "validated_proxy":
        return GRADES[max(GRADES.index(grade) - 1, 0)]
    return "expert_opinion"


@dataclass(frozen=True)
class JointLink:
    """What the evidence says about a foot finding and one joint, with its grade and sources.

    ``side`` says which leg's joint, relative to the finding's foot: "same",
    "other" (the contralateral leg) or "both"; midline joints (lower back,
    whole body) ignore it. ``association`` is what the cited study found:
    "positive" (the pattern went with more of the joint problem), "null" (no
    association), "protective" (lower odds), "conflicting" (studies
    disagree) or "other_outcome" (an association with something else than
    the link's outcome, named in ``study_outcome``). ``study_measure`` is what the study measured;
    ``measure_match`` how close the report's measure is to it ("same",
    "validated_proxy", "proxy" = related but not validated, "different").
    ``grade`` is the grade of the evidence on the study's own measure.

    A link is **drawn** (an arrow in the kinetic chain, a joint in
    ``Finding.joints``) only for a positive association on the same measure
    or a validated proxy, with ``drawn_grade`` capped by the distance
    (``capped_grade``); every other association is listed, with why it is
    not drawn, and never drawn.
    """

    joint: str
    grade: str
    statement: str
    references: tuple[int, ...]
    side: str = "same"
    association: str = "positive"
    study_measure: str = ""
    measure_match: str = "same"
    # what the study related the measure to when that is not this link's joint outcome (e.g. "disease group and
    # severity" for a whole-body link about balance and falls): such a link is listed, never drawn
    study_outcome: str = ""

    @property
    def drawn(self) -> bool:
        return self.association == "positive" and self.measure_match in ("same", "validated_proxy")

    @property
    def drawn_grade(self) -> str:
        return capped_grade(self.grade, self.measure_match)

    @property
    def why_not_drawn(self) -> str:
        if self.drawn:
            return ""
        if self.association == "null":
            return "the study found no association"
        if self.association == "protective":
            return "the study found lower, not higher, odds"
        if self.association == "conflicting":
            return "studies disagree on the direction"
        if self.association == "other_outcome":
            return f"the studies related the measure to {self.study_outcome}, not to this outcome"
        if self.measure_match == "proxy":
            return f"the study measured {self.study_measure}, which this report's measure only approximates " \
                   f"(not validated against it)"
        return f"the study measured {self.study_measure}, not what this report measures"

    def to_dict(self) -> dict[str, object]:
        return {"joint": self.joint, "side": self.side, "grade": self.grade,
                "grade_label": GRADE_LABELS[self.grade], "statement": self.statement,
                "references": list(self.references), "association": self.association,
                "study_measure": self.study_measure, "measure_match": self.measure_match, "drawn": self.drawn,
                "drawn_grade": self.drawn_grade if self.drawn else None, "why_not_drawn": self.why_not_drawn}


@dataclass(frozen=True)
class FindingSpec:
    """One row of the evidence table, as the report uses it.

    ``grade`` is the grade of the finding's own statement (what the pattern is
    consistent with); ``links`` are the joint associations, each with its own
    grade. ``evidence_row`` is the row of the evidence base's summary table.
    """

    code: str
    title: str
    evidence_row: int
    metric: str
    frame: str
    literature_threshold: str
    consistent_with: str
    mechanism: str
    grade: str
    grade_basis: str
    links: tuple[JointLink, ...]
    references: tuple[int, ...]

    def __post_init__(self) -> None:
        cited = set(self.references) | {n for link in self.links for n in link.references}
        missing = cited - set(REFERENCES)
        if missing:
            raise ValueError(f"{self.code}: cites references not in the verified list: {sorted(missing)}")
        for link in self.links:
            if (link.joint not in JOINTS or link.grade not in GRADES or link.association not in ASSOCIATIONS
                    or link.measure_match not in MEASURE_MATCHES or not link.study_measure
                    or (link.association == "other_outcome") != bool(link.study_outcome)):
                raise ValueError(f"{self.code}: bad joint link {link}")
        if self.grade not in GRADES:
            raise ValueError(f"{self.code}: unknown grade {self.grade}")

    @property
    def all_references(self) -> tuple[int, ...]:
        seen = dict.fromkeys(self.references)
        for link in self.links:
            seen.update(dict.fromkeys(link.references))
        return tuple(sorted(seen))

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code, "title": self.title, "evidence_row": self.evidence_row, "metric": self.metric,
            "frame": self.frame, "literature_threshold": self.literature_threshold,
            "consistent_with": self.consistent_with, "mechanism": self.mechanism, "grade": self.grade,
            "grade_label": GRADE_LABELS[self.grade], "grade_basis": self.grade_basis,
            "links": [link.to_dict() for link in self.links], "references": list(self.all_references),
        }


FINDINGS: Mapping[str, FindingSpec] = {f.code: f for f in (
    FindingSpec(
        code="pronated_loading",
        title="Medially shifted (pronated-like) loading",
        evidence_row=1,
        metric="mean medial-lateral centre-of-pressure offset over stance (mm, + medial), as % of ball width",
        frame="the other foot (or the patient's baseline); the foot must also lie in the most medial fifth of a "
              "reference set when one exists for the insole layout",
        literature_threshold="none validated: studies compare extreme quintiles of a cohort with the middle "
                             "three [13,16]; COP measures relate only weakly to foot type [2,5]",
        consistent_with="a more pronated dynamic foot function (a loading description, not a foot type)",
        mechanism="Induced pronation rotates the shank and femur internally and tilts the pelvis forward in "
                  "standing experiments; whether this happens in walking is not established.",
        grade="weak",
        grade_basis="Weak: centre-of-pressure measures relate only weakly to foot type (r < 0.27) and did not "
                    "separate foot-posture groups [2,5]. The joint associations were found with CPEI, a different "
                    "COP measure, and none is drawn.",
        links=(
            JointLink("low_back", "weak_moderate",
                      "Pronated foot function (low CPEI) has been associated with low back pain in women "
                      "(OR 1.48, cross-sectional, n=1930).", (13,),
                      study_measure="the centre of pressure excursion index (CPEI) on a pressure platform",
                      measure_match="proxy"),
            JointLink("knee", "weak",
                      "Foot function (CPEI) was not associated with knee pain in the Framingham cohort.", (15,),
                      association="null", study_measure="the centre of pressure excursion index (CPEI)",
                      measure_match="proxy"),
            JointLink("hip", "weak",
                      "Foot function (CPEI) was not associated with hip pain in the Framingham cohort.", (15,),
                      association="null", study_measure="the centre of pressure excursion index (CPEI)",
                      measure_match="proxy"),
            JointLink("hip", "expert_opinion",
                      "Induced hyperpronation increased internal rotation and anterior pelvic tilt in 35 healthy "
                      "people standing on wedges.", (27,),
                      study_measure="pelvic and leg alignment while standing on wedges (no walking, no pain)",
                      measure_match="different"),
        ),
        references=(2, 5, 13, 16),
    ),
    FindingSpec(
        code="supinated_loading",
        title="Laterally shifted (supinated-like) loading",
        evidence_row=3,
        metric="mean medial-lateral centre-of-pressure offset over stance (mm, + medial), as % of ball width",
        frame="the other foot (or the patient's baseline); the foot must also lie in the most lateral fifth of a "
              "reference set when one exists for the insole layout",
        literature_threshold="none validated: cohort-relative only (highest CPEI quintile) [15,16]",
        consistent_with="lateral roll-over loading, as described in cavus feet and in chronic ankle instability",
        mechanism="Lateral roll-over with less pronation after heel strike concentrates load on the lateral "
                  "column.",
        grade="weak",
        grade_basis="Weak: small in-shoe studies of lateral loading, one with the opposite result [39,40,41]; the "
                    "ankle-pain association (Moderate) was found with static foot posture, not with loading.",
        links=(
            JointLink("ankle", "moderate",
                      "Cavus foot posture has been associated with ankle pain (OR 7.56, wide CI).", (15,),
                      study_measure="static foot posture (modified arch index while standing)",
                      measure_match="different"),
            JointLink("ankle", "weak",
                      "People with chronic ankle instability loaded the lateral foot more in two studies; one "
                      "barefoot study found higher medial rearfoot pressure instead.", (39, 40, 41),
                      association="conflicting",
                      study_measure="lateral plantar pressure in people with chronic ankle instability",
                      measure_match="proxy"),
            JointLink("knee", "weak_moderate",
                      "More lateral pressure at initial contact preceded patellofemoral pain in one prospective "
                      "cohort.", (25,),
                      study_measure="lateral plantar pressure at initial contact (pressure platform)",
                      measure_match="proxy"),
            JointLink("hip", "weak",
                      "Over-supinated function went with lower odds of hip pain (OR 0.69).", (15,),
                      association="protective", study_measure="the centre of pressure excursion index (CPEI)",
                      measure_match="proxy"),
        ),
        references=(6, 15),
    ),
    FindingSpec(
        code="low_arch_loading",
        title="High midfoot (low-arch-like) loading",
        evidence_row=2,
        metric="midfoot (arch) share of stance impulse (%)",
        frame="the other foot (or the patient's baseline); the foot must also lie in the highest fifth of a "
              "reference set when one exists for the insole layout",
        literature_threshold="barefoot footprint arch-index cut-offs exist but do not transfer to in-shoe data "
                             "[2,11]; cohort studies use quintiles [13]",
        consistent_with="a flatter (planus-like) foot loading the arch",
        mechanism="Medial collapse of the foot may alter lower-limb alignment and medial knee loading "
                  "(hypothesis).",
        grade="weak",
        grade_basis="Weak: the in-shoe midfoot share is a proposed proxy of the arch index, not validated against "
                    "it [97]; in-shoe midfoot loading was only weakly associated with knee pain [20]. The Moderate "
                    "knee association was found with static foot posture [17] and is not drawn.",
        links=(
            JointLink("knee", "weak",
                      "In people with medial knee osteoarthritis a higher in-shoe dynamic arch index was weakly "
                      "associated with knee pain; static foot posture was not.", (20,),
                      study_measure="in-shoe dynamic arch index and plantar forces while walking",
                      measure_match="same"),
            JointLink("knee", "moderate",
                      "The most planus feet have been associated with frequent knee pain (OR 1.3) and medial "
                      "knee cartilage damage (OR 1.4, n=1903); small case-control studies agree.",
                      (17, 15, 18, 19),
                      study_measure="static foot posture (standing arch index, foot posture index, navicular drop)",
                      measure_match="different"),
            JointLink("knee", "weak",
                      "One small study in knee osteoarthritis conflicts with these associations.",
                      (21,), association="conflicting",
                      study_measure="medial longitudinal arch height and stiffness (static)",
                      measure_match="different"),
            JointLink("ankle", "moderate",
                      "Planus foot posture has been associated with ankle pain (OR 1.47).", (15,),
                      study_measure="static foot posture (modified arch index while standing)",
                      measure_match="different"),
        ),
        references=(2, 11, 13),
    ),
    FindingSpec(
        code="high_arch_loading",
        title="Low midfoot (high-arch-like) loading",
        evidence_row=3,
        metric="midfoot (arch) share of stance impulse (%)",
        frame="the other foot (or the patient's baseline); the foot must also lie in the lowest fifth of a "
              "reference set when one exists for the insole layout",
        literature_threshold="none validated in-shoe; cavus contact area is smaller (118 vs 165 cm²) [37]",
        consistent_with="a higher-arched (cavus-like) foot bridging the midfoot",
        mechanism="Less midfoot contact moves load to the heel and forefoot, raising pressures there.",
        grade="weak",
        grade_basis="Weak for the foot-level pattern (a review and one small case-control study [10,37]); the "
                    "ankle-pain association (Moderate) was found with static foot posture and is not drawn.",
        links=(
            JointLink("foot", "weak",
                      "High-arched feet carry more rearfoot and forefoot load and less midfoot load; cavus feet "
                      "have smaller contact area and higher metatarsal pressures.", (10, 37),
                      study_measure="regional plantar load and contact area while walking", measure_match="same"),
            JointLink("ankle", "moderate",
                      "Cavus foot posture has been associated with ankle pain (OR 7.56, wide confidence "
                      "interval).", (15,),
                      study_measure="static foot posture (modified arch index while standing)",
                      measure_match="different"),
            JointLink("knee", "weak_moderate",
                      "Lateral loading at initial contact preceded patellofemoral pain in one prospective cohort.",
                      (25,), study_measure="lateral plantar pressure at initial contact (pressure platform)",
                      measure_match="different"),
        ),
        references=(10, 37),
    ),
    FindingSpec(
        code="heel_avoidance",
        title="Heel offloading",
        evidence_row=4,
        metric="heel share of stance impulse (%), with the forefoot and toe share",
        frame="the other foot (or the patient's baseline); the load must have moved forward (forefoot and toes), "
              "and the foot must lie in the lowest fifth of a reference set when one exists",
        literature_threshold="no absolute cut-off; ≥10% lower than the other foot is a proposed, arbitrary "
                             "convention [28,53]",
        consistent_with="the heel-offloading pattern described in plantar heel pain; less heel loading is also "
                        "common where heel strike is reduced for other reasons (e.g. shuffling, short steps)",
        mechanism="An offloading strategy: less heel load, longer midfoot/forefoot contact, more toe and "
                  "lateral-forefoot loading.",
        grade="moderate",
        grade_basis="Moderate for the foot-level pattern (two case-control studies); effects further up the "
                    "leg are not established.",
        links=(
            JointLink("foot", "moderate",
                      "People with plantar heel pain load the heel less and the toes and lateral forefoot more.",
                      (28, 29), study_measure="heel force and impulse while walking", measure_match="same"),
            JointLink("foot", "weak",
                      "One force-plate study found no loading-rate or vertical-force difference between the painful "
                      "and the other foot.", (30,), association="null",
                      study_measure="whole-foot vertical force and loading rate (force plate)",
                      measure_match="different"),
        ),
        references=(28, 29, 53),
    ),
    FindingSpec(
        code="reduced_hallux_loading",
        title="Reduced big-toe (hallux) loading",
        evidence_row=5,
        metric="hallux share of stance impulse (%)",
        frame="the other foot (or the patient's baseline); the foot must also lie in the lowest fifth of a "
              "reference set when one exists for the insole layout",
        literature_threshold="no absolute threshold; in-shoe meta-analysis: hallux force-time integral SMD −0.39 "
                             "(−0.71 to −0.07), the measure this rule uses (hallux peak force: SMD −0.78) [32]",
        consistent_with="the reduced first-ray push-off described in hallux valgus",
        mechanism="Loss of first-ray push-off moves load to the central forefoot and lesser toes.",
        grade="moderate",
        grade_basis="Moderate for the foot-level pattern with in-shoe sensors (an earlier review found the "
                    "opposite in some studies); no evidence found for the knee, hip or back.",
        links=(
            JointLink("foot", "moderate",
                      "Hallux valgus has been associated with a lower hallux force-time integral with in-shoe "
                      "sensors (SMD −0.39) and lower hallux load in a population study.", (32, 33),
                      study_measure="in-shoe hallux force-time integral and hallux force", measure_match="same"),
            JointLink("foot", "weak",
                      "An earlier systematic review reported increased hallux loading in some studies; a clinic "
                      "study found hallux pressure lower but not significantly.", (34, 35),
                      association="conflicting", study_measure="hallux plantar pressure and force",
                      measure_match="same"),
        ),
        references=(32, 35),
    ),
    FindingSpec(
        code="lesser_toe_offloading",
        title="Reduced lesser-toe loading",
        evidence_row=6,
        metric="lesser-toe share of stance impulse (%)",
        frame="the other foot (or the patient's baseline); the foot must also lie in the lowest fifth of a "
              "reference set when one exists for the insole layout",
        literature_threshold="none verified",
        consistent_with="toes not taking load, as described with lesser-toe (hammer or claw toe) deformities",
        mechanism="Toes that do not bear load leave more load on the metatarsal heads.",
        grade="weak",
        grade_basis="Weak: foot-level only (altered forefoot pressure with unchanged gait and sway); no evidence "
                    "found further up the leg.",
        links=(
            JointLink("foot", "weak",
                      "Older people with toe deformities showed altered forefoot pressures with unchanged "
                      "spatiotemporal gait.", (36,),
                      study_measure="forefoot and toe plantar pressure while walking", measure_match="same"),
            JointLink("foot", "weak",
                      "Planus foot posture has been associated with hammer toes.", (16,),
                      study_measure="static foot posture", measure_match="different"),
        ),
        references=(36,),
    ),
    FindingSpec(
        code="high_impact",
        title="High heel-strike loading rate",
        evidence_row=7,
        metric="average vertical loading rate: mean slope between 20% and 80% of the first force peak "
               "(body weights per second, BW/s)",
        frame="the other foot (or the patient's baseline); the foot must also lie in the highest fifth of a "
              "reference set when one exists for the insole layout",
        literature_threshold="no walking threshold; walking ≈8 BW/s at about 1.5 m/s [45]; the running cut-off "
                             "(66 BW/s) does not apply to walking and is itself contested [46,47]",
        consistent_with="a harder heel strike with less shock absorption",
        mechanism="Heel-strike transients travel up the skeleton; their contribution to joint disease is a "
                  "hypothesis.",
        grade="weak",
        grade_basis="Weak: loading rates depend on method and speed [45,47]. The knee-OA association was found "
                    "with joint loading rates in a gait laboratory, not with in-shoe vertical loading rate, and "
                    "is not drawn; the back link is a hypothesis.",
        links=(
            JointLink("knee", "weak",
                      "People with medial knee osteoarthritis walk with higher loading rates at the ankle, knee "
                      "and hip (cross-sectional).", (49,),
                      study_measure="axial joint loading rates from gait-laboratory inverse dynamics",
                      measure_match="proxy"),
            JointLink("low_back", "expert_opinion",
                      "Heel-strike transients have been proposed to contribute to back symptoms (hypothesis).",
                      (43, 44), study_measure="skeletal accelerations at heel strike (tibia, skull)",
                      measure_match="different"),
            JointLink("knee", "weak",
                      "In runners, one cohort found vertical loading rate not associated with injury by any "
                      "calculation method (another found the opposite).", (47, 46), association="conflicting",
                      study_measure="vertical loading rate while running", measure_match="different"),
        ),
        references=(45, 47),
    ),
    FindingSpec(
        code="load_asymmetry",
        title="Left/right load asymmetry",
        evidence_row=8,
        metric="symmetry index SI = (R − L) / mean(R, L) × 100 of impulse per step",
        frame="the other foot: |SI| above 10%, beyond step-to-step scatter and beyond the repeatability of the "
              "index (its MDC95) where that is known for the layout",
        literature_threshold="|SI| > 10% is the usual flag, explicitly called arbitrary [53]; healthy gait is "
                             "not perfectly symmetric [56,60]",
        consistent_with="more load carried by one leg than the other",
        mechanism="Unloading a painful or weak side may overload the other side (hypothesis; one cohort found "
                  "the opposite).",
        grade="weak",
        grade_basis="Weak / conflicting.",
        links=(
            JointLink("knee", "weak",
                      "In unilateral hip OA the other knee carried higher dynamic load.", (92,), side="other",
                      study_measure="knee joint moments in people with unilateral hip osteoarthritis",
                      measure_match="different"),
            JointLink("knee", "weak",
                      "In unilateral knee pain, more time on the non-painful limb went with lower odds of new "
                      "pain in that knee.", (61,), side="other", association="protective",
                      study_measure="stance and single-support time asymmetry", measure_match="proxy"),
        ),
        references=(53, 56, 60),
    ),
    FindingSpec(
        code="antalgic_gait",
        title="Antalgic (protective) pattern",
        evidence_row=9,
        metric="stance-time symmetry index together with peak-force symmetry index",
        frame="the other foot: shorter stance AND lower peak force on the same side",
        literature_threshold="cohort-relative only; example knee-OA values F1 ≈1.11 BW, minimum ≈0.87 BW "
                             "(preprint) [80]",
        consistent_with="protecting one leg: less time and less load on it",
        mechanism="Pain avoidance shortens stance and flattens the force curve on the painful side; people "
                  "with knee OA also shift load strategy at the hip and trunk.",
        grade="weak_moderate",
        grade_basis="Weak–Moderate (cross-sectional studies in knee OA); the hip and ankle associations were "
                    "found with joint moments and joint loading rates and are not drawn.",
        links=(
            JointLink("hip", "weak_moderate",
                      "Knee OA gait has been associated with reduced hip adduction moment and a trunk-sway "
                      "strategy, and with higher loading rates at the hip.", (93, 49),
                      study_measure="hip joint moments and loading rates in a gait laboratory",
                      measure_match="different"),
            JointLink("ankle", "weak_moderate",
                      "Higher axial loading rates at the ankle were seen in knee-OA gait (cross-sectional).",
                      (49,), study_measure="ankle axial loading rate in a gait laboratory",
                      measure_match="different"),
            JointLink("knee", "weak",
                      "The other knee: more time on the non-painful limb went with lower, not higher, odds of "
                      "new pain.", (61,), side="other", association="protective",
                      study_measure="stance and single-support time asymmetry", measure_match="proxy"),
        ),
        references=(49, 62, 80),
    ),
    FindingSpec(
        code="flattened_force_curve",
        title="Flattened force curve",
        evidence_row=10,
        metric="valley ratio: mid-stance valley / mean of the two peaks (F1, F2) of the vertical force curve",
        frame="the other foot (or the patient's baseline); the foot must also lie in the highest fifth of a "
              "reference set when one exists for the insole layout",
        literature_threshold="walking F1 ≈1.2 BW at about 1.5 m/s [45]; normal valley and F2 values are not "
                             "verified; all values depend strongly on walking speed [82]",
        consistent_with="less weight acceptance and push-off on that foot",
        mechanism="Less weight acceptance and push-off, described as a pain-avoidance strategy in knee OA.",
        grade="weak",
        grade_basis="Weak (small studies, a preprint; walking speed confounds the curve).",
        links=(
            JointLink("knee", "weak",
                      "Women with knee OA showed a flatter vertical force curve (a preprint, not peer reviewed) and, "
                      "at matched speed, people with knee OA had reduced push-off; but group differences in the "
                      "force curve largely disappear once walking speed is accounted for [81]: the studies "
                      "disagree.", (80, 62), association="conflicting",
                      study_measure="the vertical ground reaction force curve while walking", measure_match="same"),
            JointLink("knee", "weak",
                      "Group differences in the force curve largely disappear once walking speed is accounted "
                      "for.", (81,), association="conflicting",
                      study_measure="the vertical ground reaction force curve, speed-matched",
                      measure_match="same"),
        ),
        references=(45, 82, 81),
    ),
    FindingSpec(
        code="irregular_gait",
        title="Irregular stride timing",
        evidence_row=11,
        metric="stride-to-stride timing variability (%): robust SD of successive differences / √2 / median, of "
               "stride time and of stance time, averaged, both feet",
        frame="a reference set of real control recordings of the same sensor kind: flagged at twice the "
              "controls' median, about the ratio by which groups with neurological conditions exceeded their "
              "controls on average in one study (≈2× and ≈3×) [64]; a limit from group averages that names no "
              "condition for this person: some healthy people exceed it",
        literature_threshold="older adults: stride-time SD (mean ± SD of each group, not a normal range) "
                             "106 ± 30 ms in later fallers vs 49 ± 4 ms in non-fallers [67]; at least ~20 "
                             "straight strides are needed [77]",
        consistent_with="less regular stride timing than typical",
        mechanism="Higher stride-to-stride variability reflects less steady motor control; it is a marker of "
                  "fall risk, not of stress on one joint.",
        grade="moderate",
        grade_basis="Moderate for the association with falls (prospective studies, a systematic review); "
                    "Moderate–Strong that neurological conditions raise variability; joint stress not established.",
        links=(
            JointLink("whole_body", "moderate",
                      "Higher stride-time and swing-time variability has predicted falls in older adults "
                      "(prospective).", (67, 71, 72),
                      study_measure="stride-time and swing-time variability (force-sensitive insoles, walkway)",
                      measure_match="same"),
            JointLink("whole_body", "moderate_strong",
                      "Context only, naming no condition for this person: in studies of groups with neurological "
                      "conditions, stride-time variability averaged about 2–3× that of healthy groups and rose with "
                      "disease severity; some healthy people exceed the limit too, and this report does not "
                      "interpret the figure neurologically.",
                      (64, 74), association="other_outcome",
                      study_measure="stride-time variability (force-sensitive insoles, inertial sensors)",
                      measure_match="same", study_outcome="disease group and disease severity (not balance or "
                                                          "falls)"),
        ),
        references=(64, 66, 67, 77),
    ),
)}

# References the methods paragraph cites (data requirements, stance norms).
METHODS_REFERENCES: tuple[int, ...] = (78, 77, 75, 53)
