"""The methods paragraph and reference list, generated from what the analysis actually did.

The text follows the parameters and the facts of the run (event method,
force source, body-weight source, whether COP and CPEI were possible), so
a report can print it as its Methods section without editing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from insole.analysis._events import BRIDGE_GAP_S
from insole.analysis._params import AnalysisParams

__all__ = ["REFERENCES", "methods_text", "references_for"]

# Keys used in the methods text; the report resolves them to this list.
REFERENCES: Mapping[str, str] = {
    "song1996": (
        "Song J, Hillstrom HJ, Secord D, Levitt J. Foot type biomechanics: comparison of planus and rectus "
        "foot types. J Am Podiatr Med Assoc 1996;86(1):16-23. doi:10.7547/87507315-86-1-16"
    ),
    "robinson1987": (
        "Robinson RO, Herzog W, Nigg BM. Use of force platform variables to quantify the effects of "
        "chiropractic manipulation on gait symmetry. J Manipulative Physiol Ther 1987;10(4):172-176"
    ),
    "herzog1989": (
        "Herzog W, Nigg BM, Read LJ, Olsson E. Asymmetries in ground reaction force patterns in normal human "
        "gait. Med Sci Sports Exerc 1989;21(1):110-114"
    ),
    "hausdorff1998": (
        "Hausdorff JM, Cudkowicz ME, Firtion R, Wei JY, Goldberger AL. Gait variability and basal ganglia "
        "disorders: stride-to-stride variations of gait cycle timing in Parkinson's disease and Huntington's "
        "disease. Mov Disord 1998;13(3):428-437. doi:10.1002/mds.870130310"
    ),
    "tekscan_threshold": (
        "Tekscan. Why are stance phases' force-time curves not starting at 0? (F-Scan stance threshold: "
        "minimum + 10% of the range). https://www.tekscan.com"
    ),
}


def methods_text(params: AnalysisParams, facts: Mapping[str, Any]) -> str:
    """One paragraph describing the analysis, from the parameters and the facts of this run."""
    method = facts.get("event_method", "level")
    if method == "shape":
        events = (
            "Gait events were found from each foot's total signal with a two-stage detector. Contacts were "
            f"first located with a hysteresis threshold ({params.detect_high_fraction:.0%} on, "
            f"{params.detect_low_fraction:.0%} off, of the foot's 5th-95th percentile range) on the signal "
            f"low-passed at {params.event_lowpass_hz:g} Hz (2nd-order zero-phase Butterworth). Because the "
            "force-sensitive resistors are uncalibrated and not linear in force, heel strike and toe off were "
            f"then placed from the waveform's shape (low-passed at {params.shape_lowpass_hz:g} Hz): heel strike "
            "where the rise begins (walking back from the steepest loading slope to where the slope drops "
            f"below {params.shape_slope_fraction:.0%} of it), toe off where the unloading reaches its floor: "
            f"where the signal comes within {params.shape_floor_fraction:.0%} of the contact's amplitude of the "
            f"lowest level within {params.shape_settle_s:g} s after the fall's end (where the unloading slope "
            f"flattens below {params.shape_toe_off_fraction:.0%} of its steepest), or at the fall's end when the "
            f"fall first pauses or rebounds (slope flatter than {params.shape_pause_fraction:.0%} of the "
            f"steepest); a toe off still more than {params.shape_unloaded_fraction:.0%} of the amplitude above "
            "the swing floor was followed to the next fall (two-stage unloadings). A touch that began within "
            f"{1000 * params.touch_window_s:.0f} ms before the main rise, rose at least "
            f"{params.touch_slope_fraction:.0%} as steeply and never fell back to the swing floor was taken as the "
            "heel strike (a heel tap before the loading)."
        )
    else:
        events = (
            "Gait events were found from each foot's total force with a two-stage detector. Contacts were "
            f"first located with a hysteresis threshold ({params.detect_high_fraction:.0%} on, "
            f"{params.detect_low_fraction:.0%} off, of the foot's 5th-95th percentile range) on the force "
            f"low-passed at {params.event_lowpass_hz:g} Hz (2nd-order zero-phase Butterworth). Each contact's "
            "heel strike and toe off were then placed on levels measured from that contact's own local floor "
            "(the lowest force of the neighbouring swing, which carries any residual in-shoe load), at "
            f"{params.contact_on_fraction:.1%} (heel strike) and {params.contact_off_fraction:.1%} (toe off) of "
            "the foot's typical contact peak; the higher toe-off level steps over the residual load on the "
            "toes after toe off, an adaptive form of the fixed minimum-plus-10% rule [tekscan_threshold]."
        )
    band = facts.get("body_weight_band")
    parts = [
        events,
        "The coarse thresholds follow the swing floor in 5 s windows (whole-recording levels where the foot "
        "was not walking), so a drifting or heavy in-shoe baseline does not hide steps. "
        f"Contacts shorter than {params.min_stance_s:g} s were discarded and unloadings shorter than "
        f"{params.min_swing_s:g} s merged; a contact longer than {params.split_stance_factor:g} times the "
        f"foot's median walking contact was split at an inner unloading below {params.split_depth_fraction:.0%} "
        f"of the load range with the force climbing back by {params.detect_high_fraction:.0%} of the range on "
        "both sides (a step in a shuffling turn, or a swing held up by residual load); past "
        f"{params.max_stance_s:g} s only where the unloading was as quick as a swing (a shuffling foot that "
        "never unloads fully), never at a slow weight shift while standing. A contact already under way when "
        "the recording starts has no heel strike, and one still under way at its end no toe off: neither is "
        "used for strides. Strides were used for statistics when both events were observed, "
        f"no gap longer than {1000 * BRIDGE_GAP_S:.0f} ms lay inside them (a shorter gap, one or two lost packets, "
        "leaves the events around it observed and the stride's timing usable, but the stance metrics of a "
        "contact with any missing sample were left empty), the stride lasted at most "
        f"{params.max_stride_s:g} s with contacts "
        f"of at most {params.max_stance_s:g} s (longer ones count as standing or pauses), the walking bout had "
        f"at least {params.min_bout_strides} strides"
        + (
            f", and the heading (insole gyroscope) changed by less than {params.turn_threshold_deg:g} degrees"
            if facts.get("turns_detectable")
            else " (turns could not be detected: no gyroscope)"
        )
        + ". Where both feet were recorded and the other foot was observed throughout a stride, that foot had "
        "to have exactly one contact starting inside it, as in walking (none or two means a contact of one "
        "foot was missed or split, and the stride is not one true stride). "
        "A contact's stance belongs to the stride it starts, so curves and regional loads rest on the "
        "stances of the used strides. No time was measured across a longer gap: stride, stance, swing and "
        "step times and double support spanning one (on either foot, for the two-foot measures) were left "
        "empty, as were step times and double supports whose other-foot event was not observed.",
        f"Total force: {facts.get('force_source', 'sum of the sensors')}."
        + (" Sensor offsets were zeroed on mid-swing samples of clearly unloaded swings (none where a foot "
           f"never unloads, and never more than {params.unloaded_max_fraction:.0%} of the contact peak)."
           if params.zero_offset else "")
        + " Each sensor was checked before summing: isolated one- or two-sample spikes were marked missing "
        f"for that sensor (never filled); a sensor reading nothing (dead) or holding one value (stuck) for "
        f"{params.stuck_run_s:g} s or more while the foot walked was left out over that span; a sensor that "
        "plateaus at its maximum (saturated) was "
        + ("left out, its load missing from the totals." if params.exclude_saturated
           else "kept, so totals and its peak pressure are lower bounds there.")
        + " The data-quality section lists each finding and the share of the foot's load it carried.",
        f"Body weight: {facts.get('body_weight_source', 'unknown')}."
        + (
            " The insoles' mean vertical force over whole walking strides, which equals body weight in steady "
            f"walking, was compared with mass x g (plausible ratio {band[0]:g}-{band[1]:g}); the result says "
            "when it fell outside."
            if band else ""
        )
        + (
            " The insoles were uncalibrated: one body weight from both feet's load scaled both feet, so left/right "
            "differences in force metrics include any difference between the two insoles' gains."
            if facts.get("uncalibrated_pair") else ""
        ),
        "Force-curve features were taken on the unfiltered force: first peak (largest force in the first half "
        "of stance), valley (smallest between the peaks) and second peak (largest in the second half), with "
        "timing in % of stance; loading rate as the mean slope between 20% and 80% of the first peak; impulse "
        "as the force-time integral over stance.",
    ]
    if facts.get("cop_possible"):
        parts.append(
            "The centre of pressure was the load-weighted mean of the sensor positions in the foot frame, "
            f"masked below {params.cop_min_force_fraction:.0%} of body weight; gait-line length, width, path "
            "length and the force-weighted mean medial-lateral offset were taken per stance"
            + (", and the centre of pressure excursion index (CPEI) following Song et al. [song1996]."
               if facts.get("cpei_possible") else ".")
        )
    parts.append(
        ("Regional loads (peak pressure, pressure-time and force-time integrals, share of the foot's load) "
         "were summed over the layout's region groups. " if facts.get("regions_possible", True) else
         "The layout has one sensor a foot: no regional load was measured. ")
        + "Summary values are means, SDs and coefficients of variation over the used strides [hausdorff1998]; "
        "left/right symmetry is (R - L) / (0.5 (R + L)) x 100% [robinson1987, herzog1989]."
    )
    return " ".join(parts)


def references_for(text: str) -> dict[str, str]:
    """The references cited in a methods text, keyed as cited."""
    return {key: value for key, value in REFERENCES.items() if key in text}
