"""iRECIST response of one treatment course: RECIST 1.1 plus confirmation of progression.

Seymour L, Bogaerts J, Perrone A, et al. iRECIST: guidelines for response criteria for use in
trials testing immunotherapeutics. Lancet Oncol 2017;18:e143–e152; EORTC iRECIST FAQ.

A first RECIST 1.1 progression is unconfirmed (iUPD). It is confirmed (iCPD) at the next
assessment at least `irecist_confirm_min_days` later when disease increased further, or
the bar is reset when the assessment meets iCR/iPR/iSD and has improved since the iUPD.
New lesions are followed as new-lesion targets (NLT, up to 5, 2 per organ) and non-targets
(NLNT); their sum (NL-SOM) is kept apart from the target sum. Select with
``RecistSettings(criterion="irecist")`` through `evaluate_course`, or call
`evaluate_irecist_course` directly; both return the same `CourseResponse`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from rechallenge.rules.recist import (
    Assessment,
    LesionObs,
    PatientLesions,
    PreparedCourse,
    RecistSettings,
    assess_targets,
    best_responses,
    bor_rules,
    check_target_set,
    course_response,
    missing_response,
    non_target_response,
    non_target_state,
    overall_response,
    prepare_course,
)
from rechallenge.rules.response_common import (
    IRECIST_SCALE,
    MAX_TARGETS,
    MAX_TARGETS_PER_ORGAN,
    MEASURABLE_NODE_UM,
    MEASURABLE_NON_NODAL_UM,
    NODE_ORGAN,
    PD_MIN_ABSOLUTE_UM,
    BorResult,
    CourseResponse,
    Length,
    NewLesion,
    Response,
    Timepoint,
    as_mm,
    bor_confirmed,
    bor_unconfirmed,
    meets_pd,
    pct_change,
)

__all__ = ["evaluate_irecist_course", "irecist_bor", "relabel_confirmed"]

CONFIRM_MIN_INCREASE_UM = PD_MIN_ABSOLUTE_UM  # iRECIST: iCPD if target sum / NL-SOM +5 mm more
NLT_MAX = MAX_TARGETS  # iRECIST §new lesions: up to 5 new-lesion targets in total
NLT_MAX_PER_ORGAN = MAX_TARGETS_PER_ORGAN  # iRECIST §new lesions: at most 2 per organ

TARGET, NON_TARGET, NEW_LESION = "target", "non_target", "new_lesion"

_TO_I: dict[Response, Response] = {
    Response.CR: Response.ICR,
    Response.PR: Response.IPR,
    Response.SD: Response.ISD,
    Response.NON_CR_NON_PD: Response.NON_ICR_NON_IUPD,
    Response.NE: Response.NE,
    Response.PD: Response.IUPD,
}
_RESET = frozenset({Response.ICR, Response.IPR, Response.ISD, Response.NON_ICR_NON_IUPD})


# --- iBOR on a sequence of time-point responses ---------------------------------------------


def relabel_confirmed(sequence: Sequence[Response]) -> tuple[list[Response], int | None]:
    """iRECIST iBOR step 1: iUPDs of a sequence later confirmed become iCPD.

    A sequence of iUPD (NE may lie between) that ends in iCPD with no iCR/iPR/iSD/NON-iCR/
    NON-iUPD in between is relabelled iCPD. Returns the relabelled responses up to and
    including the first iCPD (later ones do not count) and the index of the first iUPD of the
    confirmed sequence (None if no progression was confirmed).
    """
    out: list[Response] = []
    pending: list[int] = []
    for tpr in sequence:
        if tpr == Response.ICPD:
            first = pending[0] if pending else len(out)
            for k in pending:
                out[k] = Response.ICPD
            out.append(tpr)
            return out, first
        if tpr == Response.IUPD:
            pending.append(len(out))
        elif tpr in _RESET:
            pending = []
        out.append(tpr)
    return out, None


def irecist_bor(
    sequence: Sequence[tuple[int, Response]],
    settings: RecistSettings | None = None,
    *,
    confirmation: bool | None = None,
) -> BorResult:
    """iBOR of (day, time-point response) pairs as assessed (iRECIST §4).

    Step 1 relabels confirmed iUPDs as iCPD and drops assessments after the first iCPD; step 2
    applies the RECIST 1.1 BOR rules (SD minimum; CR/PR confirmation when `confirmation`, by
    default `settings.confirmation`) with the order iCR > iPR > iSD > NON-iCR/NON-iUPD > iUPD >
    iCPD > NE.
    """
    settings = settings or RecistSettings(criterion="irecist")
    confirm = settings.confirmation if confirmation is None else confirmation
    labels, _ = relabel_confirmed([tpr for _, tpr in sequence])
    relabelled = [(day, tpr) for (day, _), tpr in zip(sequence, labels, strict=False)]
    rules = bor_rules(settings)
    if confirm:
        return bor_confirmed(relabelled, IRECIST_SCALE, rules)
    return bor_unconfirmed(relabelled, IRECIST_SCALE, rules)


# --- new-lesion bookkeeping ----------------------------------------------------------------


def _measurable(obs: LesionObs) -> bool:
    """RECIST 1.1 measurability applied to a new lesion (iRECIST §new lesions)."""
    if obs.size is None:
        return False
    return obs.size >= (MEASURABLE_NODE_UM if obs.nodal else MEASURABLE_NON_NODAL_UM)


@dataclass
class NewLesionBook:
    """New lesions recorded so far: NLT (measured, summed) and NLNT (followed qualitatively)."""

    nlt: list[str] = field(default_factory=list)
    nlnt: list[str] = field(default_factory=list)
    organs: Counter[str] = field(default_factory=Counter)
    som_nadir: Length | None = None

    @property
    def seen(self) -> set[str]:
        """Every new lesion recorded."""
        return {*self.nlt, *self.nlnt}

    def add(self, rows: Sequence[LesionObs]) -> None:
        """Record first-seen new lesions; largest measurable first get the NLT places."""
        for o in sorted(rows, key=lambda r: -(r.size or 0)):
            organ = NODE_ORGAN if o.nodal else o.organ
            if (
                _measurable(o)
                and len(self.nlt) < NLT_MAX
                and self.organs[organ] < NLT_MAX_PER_ORGAN
            ):
                self.nlt.append(o.lesion_id)
                self.organs[organ] += 1
            else:
                self.nlnt.append(o.lesion_id)

    def som(self, rows: dict[str, LesionObs]) -> Length | None:
        """NL-SOM at an assessment (None if an NLT was not evaluated; 0 if there are none)."""
        total: Length = 0
        for lesion_id in self.nlt:
            obs = rows.get(lesion_id)
            value = None if obs is None else _nl_value(obs)
            if value is None:
                return None
            total += value
        return total


def _nl_value(obs: LesionObs) -> Length | None:
    """Size of a new lesion: its measure, 0 if absent, else None."""
    if obs.size is not None:
        return obs.size
    if obs.status == "absent":
        return 0
    return None


def _first_seen(a: Assessment, baseline_ids: set[str], book: NewLesionBook) -> list[LesionObs]:
    """Unequivocal new lesions not recorded before (an equivocal one waits until unequivocal)."""
    return [
        o
        for o in a.rows
        if o.role == "new"
        and o.lesion_id not in baseline_ids
        and o.lesion_id not in book.seen
        and o.status not in ("absent", "equivocal")
    ]


def _new_lesions_present(book: NewLesionBook, rows: dict[str, LesionObs]) -> bool:
    """Whether any recorded new lesion may still be there (iCR needs all of them gone)."""
    for lesion_id in book.seen:
        obs = rows.get(lesion_id)
        if obs is None or not (obs.status == "absent" or obs.size == 0):
            return True
    return False


# --- the state machine ---------------------------------------------------------------------


@dataclass
class _Pending:
    """An unconfirmed progression (iUPD) and the values the confirmation is measured against."""

    day: int
    date: pd.Timestamp
    categories: frozenset[str]
    sod: Length | None
    nl_som: Length | None
    trigger_sizes: dict[str, Length | None]


@dataclass
class _Components:
    """RECIST 1.1 components of one assessment, in iRECIST bookkeeping."""

    target: Response | None
    sod: Length | None
    complete: bool
    measured: int
    non_target: Response | None
    nt_rows: list[LesionObs]
    first_seen: list[LesionObs]
    nl_som: Length | None
    nlnt_rows: list[LesionObs]


def _components(
    course: PreparedCourse,
    a: Assessment,
    nadir: Length,
    book: NewLesionBook,
    settings: RecistSettings,
    previous_cr: bool,
) -> _Components:
    rows = a.ids
    baseline_ids = {o.lesion_id for o in (*course.targets, *course.non_targets)}
    tr, measured = assess_targets(
        course.targets, rows, course.baseline_sod, nadir, settings, previous_cr
    )
    target, sod, complete = (None, None, False) if tr is None else tr.fields
    nt_rows = [rows[n.lesion_id] for n in course.non_targets if n.lesion_id in rows]
    states = [non_target_state(rows.get(n.lesion_id)) for n in course.non_targets]
    return _Components(
        target=target,
        sod=sod,
        complete=complete,
        measured=measured,
        non_target=non_target_response(states),
        nt_rows=nt_rows,
        first_seen=_first_seen(a, baseline_ids, book),
        nl_som=book.som(rows),
        nlnt_rows=[rows[i] for i in book.nlnt if i in rows],
    )


def _recist_progression(c: _Components, book: NewLesionBook) -> set[str]:
    """Categories meeting RECIST 1.1 progression (iRECIST §3.1, incl. recorded new lesions)."""
    cats: set[str] = set()
    if c.target == Response.PD:
        cats.add(TARGET)
    if c.non_target == Response.PD:
        cats.add(NON_TARGET)
    nl_som_pd = (
        book.som_nadir is not None and c.nl_som is not None and meets_pd(book.som_nadir, c.nl_som)
    )
    if c.first_seen or nl_som_pd or any(o.status == "progression" for o in c.nlnt_rows):
        cats.add(NEW_LESION)
    return cats


def _confirmation_triggers(
    c: _Components, pending: _Pending, book: NewLesionBook, settings: RecistSettings
) -> list[str]:
    """iRECIST §3.2 a–e: reasons the assessment confirms the pending iUPD (empty = none)."""
    increase = set(settings.irecist_increase_statuses)
    found: list[str] = []
    cats = pending.categories
    if (
        TARGET in cats
        and pending.sod is not None
        and c.sod is not None
        and c.sod - pending.sod >= CONFIRM_MIN_INCREASE_UM
    ):
        found.append("target sum +5 mm since iUPD")
    if NON_TARGET in cats and any(o.status in increase for o in c.nt_rows):
        found.append("non-target increase")
    if NEW_LESION in cats:
        if (
            pending.nl_som is not None
            and c.nl_som is not None
            and c.nl_som - pending.nl_som >= CONFIRM_MIN_INCREASE_UM
        ):
            found.append("NL-SOM +5 mm since iUPD")
        if any(o.status in increase for o in c.nlnt_rows):
            found.append("new non-target lesion increase")
    if c.first_seen:
        found.append("additional new lesion")
    newly = _recist_progression(c, book) - set(cats)
    if c.first_seen:
        newly.discard(NEW_LESION)
    found.extend(f"{cat} now progressing" for cat in sorted(newly))
    return found


def _improved(c: _Components, pending: _Pending, rows: dict[str, LesionObs]) -> bool:
    """Default rule for "disease improved since the iUPD" (irecist.md §3.2): the target sum is
    smaller than at the iUPD, or every lesion that triggered it (new or non-target) regressed
    (smaller, disappeared, or a non-target no longer marked as progressing)."""
    if c.complete and c.sod is not None and pending.sod is not None and c.sod < pending.sod:
        return True
    if not pending.trigger_sizes:
        return False
    for lesion_id, size_then in pending.trigger_sizes.items():
        obs = rows.get(lesion_id)
        if obs is None:
            return False
        if obs.status == "absent" or obs.size == 0:
            continue
        if obs.role == "non_target" and obs.status == "present":
            continue
        if size_then is not None and obs.size is not None and obs.size < size_then:
            continue
        return False
    return True


def _trigger_sizes(
    cats: set[str], c: _Components, book: NewLesionBook, rows: dict[str, LesionObs]
) -> dict[str, Length | None]:
    """The non-target and new lesions behind an iUPD, with their size then."""
    out: dict[str, Length | None] = {}
    if NON_TARGET in cats:
        out.update({o.lesion_id: o.size for o in c.nt_rows if o.status == "progression"})
    if NEW_LESION in cats:
        ids = [o.lesion_id for o in c.first_seen] or sorted(book.seen)
        out.update({i: rows[i].size if i in rows else None for i in ids})
    return out


def _i_category(c: _Components, book: NewLesionBook, rows: dict[str, LesionObs]) -> Response:
    """iCR/iPR/iSD/NON-iCR/NON-iUPD/NE from the target and non-target categories; recorded new
    lesions that are still there turn iCR into iPR (or NON-iCR/NON-iUPD without targets)."""
    base = overall_response(c.target, c.non_target, NewLesion.NO)
    if base == Response.CR and _new_lesions_present(book, rows):
        base = Response.PR if c.target is not None else Response.NON_CR_NON_PD
    return _TO_I[base]


def evaluate_irecist_course(
    lesions_one_patient: pd.DataFrame | PatientLesions,
    course_start: pd.Timestamp,
    course_end: pd.Timestamp | None = None,
    settings: RecistSettings | None = None,
) -> CourseResponse:
    """iRECIST response of one course (same input and result type as `evaluate_course`).

    Time-point `label` is the response as assessed (iUPD while unconfirmed); `overall` is the
    value used for the iBOR (iUPDs of a confirmed sequence become iCPD). The progression date
    is the first iUPD of the confirmed sequence; an iUPD never confirmed nor reset gives a
    date only when `irecist_unconfirmed_iupd='event'` (flagged).
    """
    settings = settings or RecistSettings(criterion="irecist")
    course = prepare_course(lesions_one_patient, course_start, course_end, settings)
    if course.baseline_date is None:
        return missing_response(course, settings, "irecist")
    points = _timepoints(course, settings)
    labels = [p.label for p in points]
    relabelled, confirmed_first = relabel_confirmed(labels)
    counted = [
        replace(p, overall=r) if r != p.overall else p
        for p, r in zip(points, relabelled, strict=False)
    ]
    check_target_set(course, counted)
    unconfirmed, confirmed = best_responses(course, counted, IRECIST_SCALE, settings, "an iCR/iPR")
    progression = _progression_date(course, counted, confirmed_first, settings)
    for result in (unconfirmed, confirmed):
        if result.response == Response.IUPD and Response.ICPD in relabelled:
            course.warn(
                "IUPD_BEFORE_CONFIRMED_ICPD",
                "iBOR iUPD from a reset progression while a later one was confirmed (admiralonco "
                "would report iCPD); please review",
                [r for p in counted for r in p.source_rows],
            )
            break
    bors = (unconfirmed, confirmed)
    return course_response(course, settings, counted, bors, progression, "irecist")


def _progression_date(
    course: PreparedCourse,
    points: Sequence[Timepoint],
    confirmed_first: int | None,
    settings: RecistSettings,
) -> pd.Timestamp | None:
    """iPFS date (irecist.md §5): the first iUPD of the confirmed sequence; an open iUPD at the
    end gives its date when `irecist_unconfirmed_iupd='event'`."""
    if confirmed_first is not None:
        return points[confirmed_first].assessment_date
    open_iupd: Timepoint | None = None
    for p in points:
        if p.label == Response.IUPD and open_iupd is None:
            open_iupd = p
        elif p.label in _RESET:
            open_iupd = None
    if open_iupd is None:
        return None
    course.warn(
        "UNCONFIRMED_IUPD",
        f"iUPD on day {open_iupd.day} never confirmed nor reset; "
        + (
            "counted as progression (convention)"
            if settings.irecist_unconfirmed_iupd == "event"
            else "no progression date (censored)"
        ),
        open_iupd.source_rows,
        [open_iupd.assessment_date],
    )
    return open_iupd.assessment_date if settings.irecist_unconfirmed_iupd == "event" else None


def _timepoints(course: PreparedCourse, settings: RecistSettings) -> list[Timepoint]:
    """Time-point responses as assessed, up to and including the first iCPD."""
    book = NewLesionBook()
    nadir = course.baseline_sod
    pending: _Pending | None = None
    previous: Response | None = None
    out: list[Timepoint] = []
    min_gap = settings.irecist_confirm_min_days - settings.irecist_confirm_tolerance_days
    for a in course.followups:
        rows = a.ids
        c = _components(course, a, nadir, book, settings, previous == Response.ICR)
        note = ""
        progressing: tuple[str, ...] = ()
        if pending is None:
            cats = _recist_progression(c, book)
            if cats:
                label = Response.IUPD
                progressing = tuple(sorted(cats))
                book.add(c.first_seen)
                c.nl_som = book.som(rows)
                pending = _Pending(
                    day=a.day,
                    date=a.date,
                    categories=frozenset(cats),
                    sod=c.sod,
                    nl_som=c.nl_som,
                    trigger_sizes=_trigger_sizes(cats, c, book, rows),
                )
            else:
                label = _i_category(c, book, rows)
        elif a.day - pending.day < min_gap:
            if c.first_seen and settings.irecist_early_new_lesion_confirms:
                label, progressing = Response.ICPD, ("additional new lesion",)
                note = "early assessment with an additional new lesion confirms"
            else:
                out.append(_record(a, Response.IUPD, c, nadir, course, "early assessment not used"))
                continue
        else:
            if a.day - pending.day > settings.irecist_confirm_max_days:
                course.warn(
                    "CONFIRMATION_LATE",
                    f"assessment used to confirm the iUPD is {a.day - pending.day} days after it "
                    f"(iRECIST window ends at {settings.irecist_confirm_max_days})",
                    a.source_rows,
                    [a.date],
                )
            triggers = _confirmation_triggers(c, pending, book, settings)
            book.add(c.first_seen)
            c.nl_som = book.som(rows)
            if triggers:
                label, progressing = Response.ICPD, tuple(triggers)
            else:
                category = _i_category(c, book, rows)
                if category == Response.NE:
                    label, note = Response.NE, "iUPD still pending"
                elif category in _RESET and _improved(c, pending, rows):
                    label, note, pending = category, "reset after iUPD", None
                else:
                    label, note = Response.IUPD, "iUPD not confirmed, no improvement"
        out.append(_record(a, label, c, nadir, course, note, progressing))
        if label == Response.ICPD:
            break
        if c.complete and c.sod is not None:
            nadir = min(nadir, c.sod)
        _update_som_nadir(book, c)
        if label != Response.NE:
            previous = label
    return out


def _update_som_nadir(book: NewLesionBook, c: _Components) -> None:
    """NL-SOM nadir: its smallest value since the NLT list last grew (irecist.md §3.1)."""
    if c.nl_som is None or not book.nlt:
        return
    grew = any(o.lesion_id in book.nlt for o in c.first_seen)
    if grew or book.som_nadir is None:
        book.som_nadir = c.nl_som
    else:
        book.som_nadir = min(book.som_nadir, c.nl_som)


def _record(
    a: Assessment,
    label: Response,
    c: _Components,
    nadir: Length,
    course: PreparedCourse,
    note: str,
    progressing: tuple[str, ...] = (),
) -> Timepoint:
    has_targets = bool(course.targets)
    complete = c.complete and c.sod is not None
    return Timepoint(
        assessment_date=a.date,
        day=a.day,
        overall=label,
        label=label,
        target=c.target,
        non_target=c.non_target,
        new_lesions=NewLesion.YES if c.first_seen else NewLesion.NO,
        sod_mm=None if c.sod is None else as_mm(c.sod),
        targets_measured=c.measured,
        targets_total=len(course.targets),
        nadir_mm=as_mm(nadir) if has_targets else None,
        pct_change_baseline=pct_change(course.baseline_sod, c.sod)
        if complete and c.sod is not None
        else None,
        pct_change_nadir=pct_change(nadir, c.sod) if complete and c.sod is not None else None,
        new_lesion_sum_mm=None if c.nl_som is None else as_mm(c.nl_som),
        progressing=progressing,
        note=note,
        source_rows=a.source_rows,
    )
