"""The verification sample as training data for the proactive scan (issue 15): families that did not
apply, verified at random, with features from what state databases show."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.i18n import N_
from atauly.registry.quarter import Quarter

from .data import DataError, Dataset, has_table, prepare, read_registry_table
from .features import audit_groups, family_features, feature_columns
from .population import population_frame


def has_verification(directory: Path | str) -> bool:
    """Whether a registry holds a verification sample (``verification/``) and a recorded view."""
    directory = Path(directory)
    return has_table(directory, "verification") and (directory / "recorded").is_dir()


#: Entitled families that did not apply needed in the verification sample to train the scan's model on it
#: (below, the sample cannot rank or calibrate: `--view recorded` falls back to officers' decisions).
MIN_VERIFIED_ENTITLED = 30


def verified_entitled(directory: Path | str) -> int:
    """Entitled families in the verification sample that did not apply that quarter (every quarter)."""
    ver = read_registry_table(Path(directory), "verification")
    if "true_eligible" not in ver:
        return 0
    entitled = ver["true_eligible"].fillna(False).to_numpy(dtype=bool)
    if "applied" in ver:
        entitled = entitled & ~ver["applied"].fillna(False).to_numpy(dtype=bool)
    return int(entitled.sum())


def load_verified(directory: Path | str, progress=None) -> Dataset:
    """The proactive scan's question as training data (issue 15): "is this family truly entitled now,
    given only what state databases show?".

    Rows are the families of the **verification sample** (``verification/``: a random ~1% of all
    families each quarter plus a stratified part where the records show income below the line, with
    verified welfare) that did not apply that quarter, every quarter pooled; the label is
    the verified entitlement (``true_eligible``) in the quarter it was verified; features are computed
    from the **recorded view** alone (what state databases show). Because the sample is drawn from the
    whole population at chances that depend on the records alone, a model of P(entitled | records)
    trained and calibrated on it answers for the population the scan looks at, not for the self-selected
    applicants — a forest trained on applicants' decisions ranks non-applicants badly (docs/screening.md).
    The recorded view is one snapshot: a row verified in an earlier quarter is described by today's
    records, moved to its quarter (:meth:`~atauly.registry.io.Registry.shifted`: ages and incomes as
    recorded), under **that quarter's law** (its poverty line, its amounts), so that features and label
    refer to the same quarter: with the registry's quarter's law on every row, a rise of the line (21.6%
    in 2025Q3) told past rows "entitled on records" where their label was judged under the lower line.
    The scan scores the registry's quarter with its own law. The time split's test quarter is the
    registry's own quarter. The group is the family (a family verified in several quarters stays on one
    side of every split)."""
    from atauly.law.compute import compute
    from atauly.registry import load_registry

    directory = Path(directory)
    ver, quarter = _verification(directory)
    reg, _report = load_registry(directory, "recorded", skip_invalid=True)
    fam_ids = reg.families["family_id"].astype(str)
    ver_fam = ver["family_id"].astype(str)
    ver_quarter = ver["quarter"].astype(str)
    # Each quarter's rows get the law of that quarter (its poverty line, its amounts) on the records as
    # they are, moved to that quarter; features and label then answer the same question.
    parts, laws, audits, keys = [], [], [], []
    masks = {q: fam_ids.isin(set(ver_fam[ver_quarter == q])).to_numpy() for q in sorted(ver_quarter.unique())}
    total = sum(int(m.sum()) for m in masks.values())
    for q, wanted in masks.items():
        sub = reg.take(wanted).shifted(_months_between(quarter, q))
        law_q = compute(sub, q)
        parts.append(family_features(sub, law_q, Quarter.parse(q).start_time))
        laws.append(law_q)
        audits.append(audit_groups(sub, law_q["members"].to_numpy()))
        keys.append(sub.families["family_id"].astype(str) + ":" + q)
        if progress:  # (rows this step, all rows): the CLI's bar advances by the first
            progress(int(wanted.sum()), total)
    features = pd.concat(parts, ignore_index=True)
    law = pd.concat(laws, ignore_index=True)
    numeric, categorical = feature_columns(features)  # the dwelling's columns only where present
    X_fam = prepare(features, numeric, categorical)
    pos = pd.Index(pd.concat(keys, ignore_index=True)).get_indexer(ver_fam + ":" + ver_quarter)
    ver, pos, notes = _non_applicants(ver, pos)
    audit = pd.concat(audits, ignore_index=True).iloc[pos].reset_index(drop=True)
    income = None
    if "true_per_capita_income" in ver and "poverty_line" in ver:
        income = ver["true_per_capita_income"].to_numpy(dtype=float) / np.maximum(
            ver["poverty_line"].to_numpy(dtype=float), 1.0
        )
    y = ver["true_eligible"].to_numpy(dtype=bool)
    # The akimat's earlier visits to each row's family (quarters before the row's own: no visit of the
    # row's quarter, which is its label): the scan map's history inputs.
    decisions = applications_of(directory / "decisions")
    history = visit_history(ver, decisions, ver["family_id"], ver["quarter"])
    return Dataset(
        X=X_fam.iloc[pos].reset_index(drop=True),
        y=y,
        ids=(ver["family_id"].astype(str) + ":" + ver["quarter"].astype(str)).to_numpy(),
        groups=ver["family_id"].astype(str).to_numpy(),
        audit=audit,
        kind="registry",
        target="verified_entitled",
        numeric=numeric,
        categorical=categorical,
        period=ver["quarter"].astype(str).to_numpy(),
        truth=y.copy(),
        income=income,
        rules={"law_on_recorded_data": law["eligible"].to_numpy(dtype=bool)[pos]},
        notes=notes,
        view="recorded",
        population=population_frame(directory, quarter),
        scan_amounts=_scan_amounts(law, ver, pos, y, history),
        scan_history=history,
    )


#: The scan's inputs from the akimat's own visit records (issue 15), besides the forest's score: whether
#: the last verification visit of an earlier quarter found the family entitled (and it has not applied
#: since). The map (:func:`scan_calibration`) adds a logistic term for each to the log-odds of its
#: probability from the score. "Quarters since the visit" and "verified income ÷ line at the visit" are
#: computed (:func:`visit_history`) and reported but not inputs: at scale 0.005 seed 9 the sample holds 10
#: training rows with an entitled earlier visit (all entitled) and 15 with a visit just above the line
#: (1 entitled) — too few to fit a slope or a second term (docs/screening.md).
HISTORY_INPUTS = ("visit_found_entitled",)
#: Standard deviation of the Gaussian prior on each history coefficient (log-odds): the usual weakly
#: informative scale for a binary input of a logistic model (Gelman et al. 2008, 2.5). Without it, a
#: handful of training rows that are all entitled push the coefficient to infinity.
HISTORY_PRIOR_SD = 2.5


def _quarter_numbers(quarters) -> np.ndarray:
    """Quarters (``2025Q3``) as consecutive integers (year × 4 + quarter − 1)."""
    values = pd.Series(np.asarray(quarters)).astype(str)
    known = {q: (lambda x: x.year * 4 + x.q - 1)(Quarter.parse(q)) for q in values.unique()}
    return values.map(known).to_numpy(dtype=np.int64)


def visit_history(ver: pd.DataFrame, decisions: pd.DataFrame | None, family_ids, quarters) -> pd.DataFrame:
    """What the verification visits of **earlier** quarters found about each row's family: row i (family
    ``family_ids[i]`` in quarter ``quarters[i]``) sees only visits of quarters strictly before
    ``quarters[i]`` and applications (``decisions``) of quarters strictly before it — never its own
    quarter's visit, whose result is the label of a training row and the truth a scan is judged by.

    Columns (row for row): ``visit_found_entitled`` (1.0 when the last earlier visit found the family
    entitled and it has not applied since that visit's quarter, else 0.0), ``visit_quarter`` (that
    visit's quarter, "" without one), ``quarters_since_visit`` and ``visit_income_to_line`` (the
    verified per-capita income ÷ the poverty line at the visit; NaN without one), ``applied_since_visit``,
    ``visit_per_capita_income`` (the verified per-capita income at that visit; NaN without one).
    """
    fam = pd.Series(np.asarray(family_ids)).astype(str).to_numpy()
    n = len(fam)
    left = pd.DataFrame({"row": np.arange(n), "family_id": fam, "qn": _quarter_numbers(quarters)})
    left = left.sort_values("qn", kind="mergesort")
    visits = pd.DataFrame(
        {
            "family_id": ver["family_id"].astype(str).to_numpy(),
            "qn": _quarter_numbers(ver["quarter"]),
            "visit_entitled": ver["true_eligible"].fillna(False).to_numpy(dtype=bool),
            "visit_income_to_line": (
                ver["true_per_capita_income"].to_numpy(dtype=float)
                / np.maximum(ver["poverty_line"].to_numpy(dtype=float), 1.0)
                if "true_per_capita_income" in ver and "poverty_line" in ver
                else np.full(len(ver), np.nan)
            ),
            "visit_per_capita_income": (
                ver["true_per_capita_income"].to_numpy(dtype=float)
                if "true_per_capita_income" in ver
                else np.full(len(ver), np.nan)
            ),
        }
    )
    visits = visits.drop_duplicates(["family_id", "qn"], keep="last").sort_values("qn", kind="mergesort")
    visits["visit_qn"] = visits["qn"]
    if len(visits):
        found = pd.merge_asof(left, visits, on="qn", by="family_id", allow_exact_matches=False)
    else:  # no visits at all (merge_asof needs keys of one type, and an empty column has none)
        found = left.assign(
            visit_entitled=False, visit_income_to_line=np.nan, visit_per_capita_income=np.nan, visit_qn=np.nan
        )
    if decisions is not None and len(decisions):
        apps = pd.DataFrame(
            {
                "family_id": decisions["family_id"].astype(str).to_numpy(),
                "qn": _quarter_numbers(decisions["quarter"]),
            }
        )
        apps = apps.drop_duplicates().sort_values("qn", kind="mergesort")
        apps["app_qn"] = apps["qn"]
        found = pd.merge_asof(
            found.sort_values("qn", kind="mergesort"),
            apps,
            on="qn",
            by="family_id",
            allow_exact_matches=False,
        )
    else:
        found["app_qn"] = np.nan
    found = found.sort_values("row").reset_index(drop=True)
    visited = found["visit_qn"].notna().to_numpy()
    visit_qn = found["visit_qn"].to_numpy(dtype=float)
    applied_since = visited & (found["app_qn"].to_numpy(dtype=float) >= visit_qn)
    entitled = visited & found["visit_entitled"].fillna(False).to_numpy(dtype=bool) & ~applied_since
    quarter_of = np.full(n, "", dtype=object)
    for value in np.unique(visit_qn[visited]):
        v = int(value)
        quarter_of[visit_qn == value] = f"{v // 4}Q{v % 4 + 1}"
    return pd.DataFrame(
        {
            "visit_found_entitled": entitled.astype(float),
            "visit_quarter": quarter_of,
            "quarters_since_visit": np.where(visited, found["qn"].to_numpy(dtype=float) - visit_qn, np.nan),
            "visit_income_to_line": np.where(
                visited, found["visit_income_to_line"].to_numpy(dtype=float), np.nan
            ),
            "applied_since_visit": applied_since,
            # What the visit verified: the family's per-capita income then (the amount it would receive
            # now is that income under today's line: :func:`visit_amount`).
            "visit_per_capita_income": np.where(
                visited, found["visit_per_capita_income"].to_numpy(dtype=float), np.nan
            ),
        }
    )


def applications_of(path: Path) -> pd.DataFrame | None:
    """(family_id, quarter) of every decided application in ``decisions`` (a folder or one part file),
    None without one."""
    if not path.exists() and path.with_suffix(".parquet").exists():
        path = path.with_suffix(".parquet")
    if not path.exists():
        return None
    return pd.read_parquet(path, columns=["family_id", "quarter"])


def history_matrix(history: pd.DataFrame | None, n: int, inputs=HISTORY_INPUTS) -> np.ndarray:
    """The map's history inputs as a matrix (rows × inputs); zeros without a history."""
    if history is None:
        return np.zeros((n, len(inputs)))
    return history[list(inputs)].fillna(0.0).to_numpy(dtype=float)


def sample_scores(ids, raw) -> dict:
    """The out-of-fold raw score of each family the final forest was fitted on (``ids``: "family:quarter";
    a family's latest quarter kept): the scan maps these, not the forest's in-sample score, for those
    families (:func:`scan_raw`).

    Stored compactly and without family ids in clear: each family id hashed with a salted 64-bit
    SipHash (pandas' ``hash_array``; the key, 16 characters, is derived from the sample itself, so a
    retraining on the same data stores the same bytes), sorted, and packed with its score (float32) as
    base64 — 12 bytes a family instead of ≈ 35 of JSON (≈ 0.6 M families at the whole country: ≈ 9.6 MB
    instead of ≈ 20 MB in ``metrics.json``)."""
    import base64
    import hashlib

    frame = pd.DataFrame({"id": pd.Series(np.asarray(ids)).astype(str), "raw": np.asarray(raw, dtype=float)})
    parts = frame["id"].str.rsplit(":", n=1, expand=True)
    frame["family_id"], frame["qn"] = parts[0], _quarter_numbers(parts[1])
    frame = frame.sort_values(["family_id", "qn"], kind="mergesort").drop_duplicates("family_id", keep="last")
    families = frame["family_id"].to_numpy(dtype=object)
    key = hashlib.sha256("\n".join(families).encode()).hexdigest()[:16]
    hashed = _hash_ids(families, key)
    order = np.argsort(hashed, kind="mergesort")
    packed = np.empty(len(order), dtype=[("hash", "<u8"), ("raw", "<f4")])
    packed["hash"], packed["raw"] = hashed[order], frame["raw"].to_numpy(dtype=np.float32)[order]
    return {
        "format": "siphash64-float32-base64",
        "key": key,
        "families": len(order),
        "data": base64.b64encode(packed.tobytes()).decode("ascii"),
        # The hash of a fixed input as this pandas computes it (check_sample_hash): another pandas that
        # hashed differently would read every stored score for no family, or for the wrong one, silently.
        "probe": hash_probe(),
        "pandas": pd.__version__,
    }


def _hash_ids(family_ids, key: str) -> np.ndarray:
    """Family ids as salted 64-bit hashes (SipHash-2-4 with the 16-character ``key``)."""
    from pandas.util import hash_array

    return hash_array(np.asarray(family_ids, dtype=object), hash_key=key, categorize=False)


#: A fixed input and key (16 characters) whose hashes are stored with the packed sample scores: ids shaped
#: like the registry's, a Cyrillic one and an empty one.
HASH_PROBE_IDS = ("R79F0", "R75F1234567", "R11F42", "семья-1", "")
HASH_PROBE_KEY = "atauly-probe-v01"
SAMPLE_HASH_CHANGED = N_(
    "The model {model} stores its sample scores under hashes of family ids that this installation computes "
    "differently (pandas {trained} at training, {now} now): the scan would read them for the wrong "
    "families. Retrain the model: atauly model train --registry DIR --view recorded"
)
SAMPLE_HASH_UNCHECKED = N_(
    "The model {model} was trained before its sample scores' hashes were checked: the scan cannot tell "
    "whether this installation hashes family ids as its training did. Retrain the model to have them "
    "checked: atauly model train --registry DIR --view recorded"
)


class SampleHashError(ValueError):
    """A model whose packed sample scores this installation would hash differently: retrain it."""


class SampleHashWarning(UserWarning):
    """A model with packed sample scores and no probe (trained before the probe): not checked."""


def hash_probe() -> str:
    """The 64-bit hashes of :data:`HASH_PROBE_IDS` under :data:`HASH_PROBE_KEY`, as hexadecimal text."""
    return ",".join(f"{int(h):016x}" for h in _hash_ids(list(HASH_PROBE_IDS), HASH_PROBE_KEY))


def check_sample_hash(calibration: dict | None, model: str = "", lang: str | None = None) -> bool:
    """Whether the packed sample scores of a scan's ``calibration`` can be read by this installation:
    raises :class:`SampleHashError` (in the settings' language, or ``lang``) when its hash of the fixed
    probe differs from the one stored at training, warns (:class:`SampleHashWarning`) and returns False
    when the model stored none (older models), returns True otherwise (also for the plain lists of ids
    the oldest models stored, which are not hashed)."""
    stored = (calibration or {}).get("sample_scores")
    if not stored or "data" not in stored:
        return True
    probe = stored.get("probe")
    if probe is not None and probe == hash_probe():
        return True
    from atauly.i18n import Translator

    if lang is None:
        from atauly.settings import get_settings

        lang = get_settings().lang
    tr = Translator(lang or "ru")
    if probe is None:
        import warnings

        warnings.warn(tr(SAMPLE_HASH_UNCHECKED, model=model), SampleHashWarning, stacklevel=2)
        return False
    raise SampleHashError(
        tr(SAMPLE_HASH_CHANGED, model=model, trained=stored.get("pandas", "?"), now=pd.__version__)
    )


def _stored_scores(stored: dict, family_ids) -> tuple[np.ndarray, np.ndarray]:
    """(position in the stored scores or −1, the stored scores) for each family id: the packed form of
    :func:`sample_scores`, or the plain lists of family ids and scores older models stored."""
    ids = pd.Series(np.asarray(family_ids)).astype(str).to_numpy(dtype=object)
    if "data" in stored:
        import base64

        packed = np.frombuffer(base64.b64decode(stored["data"]), dtype=[("hash", "<u8"), ("raw", "<f4")])
        hashed = _hash_ids(ids, stored["key"])
        pos = np.searchsorted(packed["hash"], hashed)
        pos = np.minimum(pos, max(len(packed) - 1, 0))
        found = (packed["hash"][pos] == hashed) if len(packed) else np.zeros(len(ids), dtype=bool)
        return np.where(found, pos, -1), packed["raw"].astype(float)
    index = pd.Index(stored["family_id"])
    return index.get_indexer(ids), np.asarray(stored["raw"], dtype=float)


def scan_raw(calibration: dict | None, family_ids, raw) -> tuple[np.ndarray, np.ndarray]:
    """The score the scan's map reads for each family: the forest's raw score, or, for a family the final
    forest was fitted on (the verification sample's training part), its stored out-of-fold score — the
    score the map was fitted on; a forest scores its own training rows far from how it scores anyone
    else. Returns (scores, whether each is out-of-fold). Reads the packed form of :func:`sample_scores`
    and the plain lists older models stored."""
    raw = np.asarray(raw, dtype=float).copy()
    stored = (calibration or {}).get("sample_scores")
    if not stored or not (stored.get("families") or len(stored.get("family_id", ()))):
        return raw, np.zeros(len(raw), dtype=bool)
    if stored.get("probe") is not None:
        check_sample_hash(calibration)  # never read under hashes that differ from the training's
    pos, scores = _stored_scores(stored, family_ids)
    oof = pos >= 0
    raw[oof] = scores[pos[oof]]
    return raw, oof


def _months_between(start: str, end: str) -> int:
    """Calendar months from quarter ``start`` to quarter ``end`` (negative when ``end`` is earlier)."""
    return 3 * (Quarter.parse(end) - Quarter.parse(start))


def _verification(directory: Path) -> tuple[pd.DataFrame, str]:
    """The verification sample and the registry's quarter (its manifest's, else the sample's latest)."""
    import json

    if not has_verification(directory):
        raise DataError(f"{directory} has no verification/ sample and recorded/ view")
    ver = read_registry_table(directory, "verification")
    for col in ("family_id", "quarter", "true_eligible"):
        if col not in ver:
            raise DataError(f"verification lacks the column {col}")
    manifest = directory / "manifest.json"
    quarter = None
    if manifest.exists():
        quarter = json.loads(manifest.read_text(encoding="utf-8")).get("quarter")
    return ver, str(quarter or max(ver["quarter"].astype(str)))


def _non_applicants(ver: pd.DataFrame, pos: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The sample's rows with a valid family in the recorded view that did not apply that quarter."""
    notes = []
    missing = int((pos < 0).sum())
    if missing:
        notes.append(
            f"{missing} verified rows have no valid family in recorded/ (absent or failing the data contract): left out"
        )
    keep = pos >= 0
    if "applied" in ver:
        # The scan's question is about families that did not apply (it never offers to applicants): the
        # sample's applicants, far more often entitled, would raise every non-applicant's probability.
        applied = ver["applied"].fillna(False).to_numpy(dtype=bool)
        notes.append(f"{int((keep & applied).sum()):,} verified families that applied that quarter left out")
        keep &= ~applied
    ver = ver.loc[keep].reset_index(drop=True)
    pos = pos[keep]
    notes.append(
        f"labels: the verification sample ({len(ver):,} verified family-quarters, {ver['quarter'].nunique()} quarters, "
        f"{int(ver['true_eligible'].sum()):,} entitled), features from today's recorded view under each row's quarter's law"
    )
    if "random_sample" in ver:
        notes.append(
            f"sample design: {int(ver['random_sample'].sum()):,} drawn at random, the rest from the stratum where "
            "records show income below the line (drawn on records alone: P(entitled | records) stays unbiased)"
        )
    return ver, pos, notes


def _scan_amounts(
    law: pd.DataFrame, ver: pd.DataFrame, pos: np.ndarray, y: np.ndarray, history: pd.DataFrame | None = None
) -> dict | None:
    """What an entitled family truly receives vs the law's amount on its records: the records miss
    informal income, so the records' amount overstates; the scan's budget forecast is scaled by it.

    ``replicates``: the gap bins' ratios and means refitted on :data:`AMOUNT_REPLICATES` bootstrap
    resamples of the sample's families (a family's rows go together), so that the forecast's budget
    interval carries the amounts' own error (the scan pairs replicate b with the map's replicate b).
    ``visited``: over the rows whose earlier visit found the family entitled (and that are entitled), the
    true amount against :func:`visit_amount` from that visit's verified income under the row's
    quarter's law — a check of the amount the scan gives such families, not an input."""
    if "true_monthly_amount" not in ver:
        return None
    on_records = (
        law["asp_monthly_amount"].to_numpy(float) + law["child_supplement_monthly"].to_numpy(float)
    )[pos]
    true_amount = ver["true_monthly_amount"].fillna(0).to_numpy(dtype=float)
    # A stratified sample: each family counts 1 / its chance of being drawn (population totals).
    weight = (
        1 / ver["sampling_probability"].to_numpy(float) if "sampling_probability" in ver else np.ones(len(y))
    )
    gap = (
        1 - law["per_capita_income"].to_numpy(float) / np.maximum(law["poverty_line"].to_numpy(float), 1.0)
    )[pos]
    overall = _overall_ratio(true_amount, on_records, weight, y)
    out = {
        "entitled": int(y.sum()),
        "true_monthly_amount": float((true_amount * weight)[y].sum()),
        "records_monthly_amount": float((on_records * weight)[y].sum()),
        "ratio": overall,
        "by_gap": _amount_bins(true_amount, on_records, weight, gap, y, overall),
    }
    _, family = np.unique(ver["family_id"].astype(str).to_numpy(), return_inverse=True)
    out["replicates"] = amount_replicates(true_amount, on_records, weight, gap, y, family)
    if history is not None and "visit_per_capita_income" in history:
        seen = history["visit_found_entitled"].to_numpy(dtype=float) > 0
        income = history["visit_per_capita_income"].to_numpy(dtype=float)
        rows = seen & y & np.isfinite(income)
        estimate = visit_amount(
            law["members"].to_numpy(float)[pos],
            law["poverty_line"].to_numpy(float)[pos],
            income,
            law["child_supplement_monthly"].to_numpy(float)[pos],
        )
        total = float(estimate[rows].sum())
        out["visited"] = {
            "rows": int(rows.sum()),
            "true_monthly_amount": float(true_amount[rows].sum()),
            "visit_estimate": total,
            "ratio": float(true_amount[rows].sum() / total) if total > 0 else None,
        }
    return out


def _overall_ratio(true_amount, on_records, weight, y) -> float:
    records_sum = float((on_records * weight)[y].sum())
    return float((true_amount * weight)[y].sum() / records_sum) if records_sum > 0 else 1.0


#: Bootstrap replicates of the gap bins' amounts (as many as the map's, :data:`SCAN_MAP_REPLICATES`).
AMOUNT_REPLICATES = 200


def amount_replicates(
    true_amount, on_records, weight, gap, y, family, n: int = AMOUNT_REPLICATES, seed: int = 0
) -> dict:
    """The gap bins' ratios and mean true amounts (:func:`_amount_bins`) on ``n`` bootstrap resamples
    of the families (``family``: integer codes; a family's rows go together): ``{"ratio": [[bin …] …],
    "mean_true_amount": [[bin …] …]}``, one row per replicate. A resample's bin with fewer than
    :data:`MIN_AMOUNT_BIN` entitled families takes that resample's overall ratio, as the point does."""
    rng = np.random.default_rng([seed, 31])
    family = np.asarray(family)
    n_families = int(family.max()) + 1 if len(family) else 0
    ratios, means = [], []
    for _ in range(n if n_families else 0):
        count = np.bincount(rng.integers(0, n_families, n_families), minlength=n_families)[family]
        keep = count > 0
        w = (weight * count)[keep]
        overall = _overall_ratio(true_amount[keep], on_records[keep], w, y[keep])
        bins = _amount_bins(true_amount[keep], on_records[keep], w, gap[keep], y[keep], overall, count[keep])
        ratios.append([round(b["ratio"], 6) for b in bins])
        means.append([round(b["mean_true_amount"], 2) for b in bins])
    return {"ratio": ratios, "mean_true_amount": means}


def _amount_bins(true_amount, on_records, weight, gap, y, overall: float, count=None) -> list[dict]:
    """Per bin of the records' gap (:data:`AMOUNT_GAP_EDGES`), over the sample's entitled families
    (weighted by 1 / their chance of being drawn): the ratio of true to recorded monthly amount and the
    mean true amount. The records miss informal income, and the more so the poorer they look: at scale
    0.05 the ratio was 0.63 for gaps up to a quarter and 0.34 beyond three quarters, where the scan's
    offers are; one ratio for all overstated the offers' budget by 57%. A bin with fewer than
    :data:`MIN_AMOUNT_BIN` entitled families takes the overall ratio (and the overall mean). ``count``:
    how many times each row is drawn (a bootstrap resample; None: once each)."""
    index = gap_bin(gap)
    count = np.ones(len(y), dtype=np.int64) if count is None else np.asarray(count)
    mean_all = float(np.average(true_amount[y], weights=weight[y])) if y.any() else 0.0
    bins = []
    for k in range(len(AMOUNT_GAP_EDGES) + 1):
        here = y & (index == k)
        n = int(count[here].sum())
        w = weight[here]
        records = float((on_records[here] * w).sum())
        enough = n >= MIN_AMOUNT_BIN
        bins.append(
            {
                "upper": AMOUNT_GAP_EDGES[k] if k < len(AMOUNT_GAP_EDGES) else None,
                "entitled": n,
                "ratio": float((true_amount[here] * w).sum() / records)
                if enough and records > 0
                else overall,
                "mean_true_amount": float(np.average(true_amount[here], weights=w)) if enough else mean_all,
            }
        )
    return bins


def visit_amount(members, poverty_line, visit_income, child_supplement) -> np.ndarray:
    """The monthly amount a family an earlier visit found entitled would receive now, from what that
    visit verified: (today's poverty line − the per-capita income the visit verified) × today's members
    (the law's ASP, ``law.variables.amounts.asp_monthly_amount``, without the 2019 child guarantee) +
    the child supplement on records. The records of such families hide less income than the sample's
    (their true amount was 0.78–0.86 of the records' at scale 0.005, against the gap bins' 0.58–0.65),
    and the visit is the akimat's own measurement of it; NaN where the visit's income is unknown."""
    members = np.asarray(members, dtype=float)
    gap = np.maximum(np.asarray(poverty_line, dtype=float) - np.asarray(visit_income, dtype=float), 0.0)
    return gap * members + np.asarray(child_supplement, dtype=float)


#: The records' gap to the poverty line (1 − per-capita income ÷ line) that bounds the bins of the
#: budget forecast's amounts (:func:`_scan_amounts`): a family with no income on record has gap 1.
AMOUNT_GAP_EDGES = (0.0, 0.25, 0.5, 0.75, 0.9)
#: Entitled families of the sample a gap bin needs for its own ratio (below: the ratio over every
#: family with a positive amount on records).
MIN_AMOUNT_BIN = 20


def log_odds(p, floor: float = 1e-6) -> np.ndarray:
    """log(p / (1 − p)), with p kept within [floor, 1 − floor]."""
    p = np.clip(np.asarray(p, dtype=float), floor, 1 - floor)
    return np.log(p / (1 - p))


def score_floor(trees: int | None) -> float:
    """The smallest forest score the scan's map tells apart: half of one tree's vote, 1 / (2·trees).
    A forest's score of 0 means "no tree voted", not a log-odds of −∞: left at 1e-6, the many families
    no tree voted for (a fifth of the sample at scale 0.005) sit at log-odds −13.8, and Platt's slope
    bends to reach them and flattens the map at the top (a = −0.45 at scale 0.005 seed 9; −1.09 with
    this floor)."""
    return 0.5 / trees if trees else 1e-6


def scan_calibration(
    raw,
    y,
    floor: float = 1e-6,
    groups=None,
    seed: int = 0,
    n_replicates: int | None = None,
    history=None,
) -> dict | None:
    """The scan's population calibration (issue 15): a monotone map of the **log-odds** of the forest's
    raw score (floored at ``floor``) to the probability of true entitlement, fitted on the labelled
    rows given (the out-of-fold scores of the training part).

    Two maps are candidates (:data:`SCAN_MAPS`): Platt's logistic map on the log-odds (beta calibration
    with equal shapes, Kull et al. 2017: two parameters) and isotonic regression on the log-odds (ties
    pooled, linear between the steps' centres), which can bend where the forest's log-odds stop being
    linear in the truth — at the top of the ranking, where the two-parameter map overshot by a third at
    scale 0.05. **The rule, fixed before any scan was compared with the truth:** the map with the lowest
    log loss, over :data:`SCAN_MAP_FOLDS` grouped folds of these rows (each map fitted on the other
    folds), on the held-out rows whose score is in the top :data:`SCAN_MAP_TOP` of all rows — where the
    scan's offers and its forecasts are (4 visits per 1,000 families); the log loss of all rows breaks a
    tie. Probabilities are kept within [1/(2n), 1 − 1/(2n)], so an isotonic step at 0 or 1 costs what it
    risks. ``selection`` keeps both losses of each map. Isotonic is a candidate only with at least
    ``MIN_ISOTONIC_CLASS`` (100) families of the rarer class, the project's rule for isotonic maps
    (a registry at scale 0.005 holds 37 entitled: its steps are noise there).

    ``replicates``: the chosen map refitted on ``n_replicates`` (:data:`SCAN_MAP_REPLICATES`) bootstrap resamples of the
    families (``groups``: a family's rows go together), each stored as probabilities on ``grid`` (log-odds);
    the scan propagates them to the forecasts, whose intervals then include the calibration's own error.

    ``history``: the rows' history inputs (:data:`HISTORY_INPUTS`, a matrix from :func:`history_matrix`
    over :func:`visit_history`, earlier quarters' visits only). Then the probability is
    expit(logit(map(score)) + Σ cₖ·hₖ): each coefficient fitted by logistic regression with the chosen
    map's log-odds as offset and a Gaussian prior N(0, :data:`HISTORY_PRIOR_SD`²) (a maximum a posteriori
    fit); ``history.replicates`` holds draws from their posterior (:func:`history_posterior`), one per
    map replicate, and the point probability is the posterior predictive (the mean over the draws).

    Returns ``{"method", ..., "floor", "rows", "positive", "selection", "grid", "replicates"}``; None
    without both classes. A Platt map that would fall with the score (a tiny sample cannot rank) is the
    base rate for everyone."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return None
    x = log_odds(raw, floor)
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    _, family = np.unique(groups, return_inverse=True)
    from .estimators import MIN_ISOTONIC_CLASS

    # Isotonic steps need many of the rarer class (the project's rule for the model's own map,
    # ``estimators.MIN_ISOTONIC_CLASS``): with fewer, the two-parameter map alone.
    rarer = min(int(y.sum()), int((~y).sum()))
    maps = SCAN_MAPS if rarer >= MIN_ISOTONIC_CLASS else ("platt_log_odds",)
    selection = _select_map(x, y, family, seed, maps)
    method = min(maps, key=lambda m: (selection[m]["top"], selection[m]["all"], SCAN_MAPS.index(m)))
    fitted = _fit_map(method, x, y, None)
    grid = _grid(x)
    rng = np.random.default_rng([seed, 15])
    n_families = family.max() + 1
    H = None if history is None else np.asarray(history, dtype=float).reshape(len(y), -1)
    eps = 0.5 / len(y)
    replicates = []
    for _ in range(SCAN_MAP_REPLICATES if n_replicates is None else n_replicates):
        weight = np.bincount(rng.integers(0, n_families, n_families), minlength=n_families)[family]
        if not (weight * y).any() or not (weight * ~y).any():
            continue
        refit = _fit_map(method, x, y, weight.astype(float), fitted)
        replicates.append(np.round(_apply_map(refit, grid), 7))
    history_out = None
    if H is not None:
        has = H != 0
        offset = log_odds(_apply_map(fitted, x), eps)
        # The coefficients' posterior (not the bootstrap of their MAP): with a handful of visited rows,
        # all entitled, a bootstrap resample holds the same handful and refits the same prior-bound
        # estimate, so the forecasts' intervals missed how little they say (scale 0.005 seed 1: 3 rows,
        # c = 4.0 at the MAP, the visited offers' forecast 27% low and outside its interval).
        draws = history_posterior(offset, H, y, n=len(replicates), seed=seed)
        history_out = {
            "inputs": list(HISTORY_INPUTS)[: H.shape[1]],
            "coef": np.round(history_fit(offset, H, y), 7).tolist(),
            "prior_sd": HISTORY_PRIOR_SD,
            "rows_with": has.sum(axis=0).astype(int).tolist(),
            "entitled_with": (has & y[:, None]).sum(axis=0).astype(int).tolist(),
            # Posterior draws, one per map replicate: the point probability is their mean (the
            # posterior predictive), each replicate of the forecast uses one.
            "posterior": "draws",
            "replicates": np.round(draws, 7).tolist(),
        }
    return {
        **fitted,
        "floor": float(floor),
        "rows": len(y),
        "positive": int(y.sum()),
        "selection": {m: {k: round(v, 7) for k, v in losses.items()} for m, losses in selection.items()},
        # The other candidates as fitted on every row (for comparisons: benchmarks/bench_scan_offers.py).
        "alternatives": {m: _fit_map(m, x, y, None) for m in SCAN_MAPS if m != method},
        "grid": np.round(grid, 6).tolist(),
        "replicates": [r.tolist() for r in replicates],
        **({"history": history_out} if history_out is not None else {}),
    }


def history_fit(offset, H, y, weight=None, prior_sd: float = HISTORY_PRIOR_SD) -> np.ndarray:
    """Coefficients c of p = expit(offset + H·c) maximising the (weighted) log likelihood of ``y`` plus a
    Gaussian prior N(0, prior_sd²) on each: Newton's method with step halving (the objective is
    convex; an input that is zero on every row gets 0)."""
    from scipy.special import expit, log_expit

    H = np.asarray(H, dtype=float)
    y = np.asarray(y, dtype=float)
    offset = np.asarray(offset, dtype=float)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    k = H.shape[1]
    ridge = np.eye(k) / prior_sd**2

    def loss(c):
        z = offset + H @ c
        return -(w * (y * log_expit(z) + (1 - y) * log_expit(-z))).sum() + 0.5 * c @ ridge @ c

    coef = np.zeros(k)
    value = loss(coef)
    for _ in range(100):
        p = expit(offset + H @ coef)
        grad = H.T @ (w * (p - y)) + ridge @ coef
        hess = (H * (w * p * (1 - p))[:, None]).T @ H + ridge
        step = np.linalg.solve(hess, grad)
        for _ in range(40):
            trial = coef - step
            new = loss(trial)
            if new <= value:
                break
            step = step / 2
        else:
            break
        coef, value = trial, new
        if np.abs(step).max() < 1e-10:
            break
    return coef


#: Points of the grid on which a single history coefficient's posterior is computed (from −3 to +4
#: prior standard deviations).
HISTORY_GRID = 1201


def history_posterior(
    offset, H, y, n: int, seed: int = 0, weight=None, prior_sd: float = HISTORY_PRIOR_SD
) -> np.ndarray:
    """``n`` draws (rows) of the history coefficients from their posterior: the likelihood of
    p = expit(offset + H·c) times the Gaussian prior N(0, prior_sd²) of :func:`history_fit`. One input:
    exact, on a grid (:data:`HISTORY_GRID` points) by inverse CDF — with a few visited rows, all
    entitled, the likelihood is flat upwards and the posterior skewed, which a normal approximation
    around the MAP would miss; several inputs: the normal (Laplace) approximation at the MAP. The
    offsets are taken as known (the map's own error is in its bootstrap replicates). Deterministic
    for a ``seed``; an input that is zero on every row draws 0."""
    from scipy.special import expit, log_expit

    H = np.asarray(H, dtype=float)
    y = np.asarray(y, dtype=float)
    offset = np.asarray(offset, dtype=float)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    k = H.shape[1]
    rng = np.random.default_rng([seed, 17])
    if n <= 0:
        return np.zeros((0, k))
    mode = history_fit(offset, H, y, w, prior_sd)
    if k == 1:
        rows = H[:, 0] != 0  # the other rows' likelihood does not depend on c
        if not rows.any():
            return np.zeros((n, 1))
        h, o, yy, ww = H[rows, 0], offset[rows], y[rows], w[rows]
        grid = np.linspace(-3 * prior_sd + min(mode[0], 0.0), 4 * prior_sd + max(mode[0], 0.0), HISTORY_GRID)
        z = o[None, :] + grid[:, None] * h[None, :]
        log_post = (ww * (yy * log_expit(z) + (1 - yy) * log_expit(-z))).sum(axis=1)
        log_post -= 0.5 * (grid / prior_sd) ** 2
        dens = np.exp(log_post - log_post.max())
        cdf = np.cumsum(dens)
        cdf /= cdf[-1]
        u = (np.arange(n) + rng.random(n)) / n  # stratified: the draws cover the posterior evenly
        return np.interp(u, cdf, grid)[rng.permutation(n)][:, None]
    p = expit(offset + H @ mode)
    hess = (H * (w * p * (1 - p))[:, None]).T @ H + np.eye(k) / prior_sd**2
    return rng.multivariate_normal(mode, np.linalg.inv(hess), size=n)


def _with_history(calibration: dict, p: np.ndarray, history, coef=None) -> np.ndarray:
    """The map's probability ``p`` moved by the history term (coefficients ``coef``, else the map's)."""
    found = calibration.get("history")
    if not found or history is None:
        return p
    from scipy.special import expit

    H = np.asarray(history, dtype=float)
    H = H[:, None] if H.ndim == 1 else H
    eps = 0.5 / max(int(calibration.get("rows") or 0), 1)
    out = np.array(p, dtype=float, copy=True)
    if coef is None and found.get("posterior") == "draws" and found.get("replicates"):
        # The posterior predictive: the mean over the coefficients' posterior draws.
        draws = np.asarray(found["replicates"], dtype=float)
        H = H[:, : draws.shape[1]]
        moved = (H != 0).any(axis=1)  # families without a history keep the map's probability exactly
        if moved.any():
            base = log_odds(out[moved], eps)
            out[moved] = expit(base[None, :] + draws @ H[moved].T).mean(axis=0)
        return out
    coef = np.asarray(found["coef"] if coef is None else coef, dtype=float)
    H = H[:, : len(coef)]
    shift = H @ coef
    moved = shift != 0  # families without a history keep the map's probability exactly
    out[moved] = expit(log_odds(out[moved], eps) + shift[moved])
    return out


#: The scan's candidate maps (:func:`scan_calibration`), in the order that breaks a tie of log loss
#: (the simpler first).
SCAN_MAPS = ("platt_log_odds", "isotonic_log_odds")
#: The top share of the labelled rows (by score) on which the maps are compared.
SCAN_MAP_TOP = 0.01
#: Grouped folds of the map's selection, and bootstrap replicates of the chosen map.
SCAN_MAP_FOLDS = 5
SCAN_MAP_REPLICATES = 200


def _select_map(x, y, family, seed: int, maps=SCAN_MAPS) -> dict[str, dict[str, float]]:
    """Each candidate map's mean log loss over grouped folds (fitted on the others): on the held-out rows
    in the top :data:`SCAN_MAP_TOP` of scores (``top``) and on all of them (``all``)."""
    fold_of_family = np.random.default_rng([seed, 16]).permutation(family.max() + 1) % SCAN_MAP_FOLDS
    fold = fold_of_family[family]
    high = x >= np.quantile(x, 1 - SCAN_MAP_TOP)
    loss = {m: {"top": 0.0, "all": 0.0} for m in maps}
    for k in range(SCAN_MAP_FOLDS):
        test = fold == k
        train = ~test
        if not test.any() or y[train].all() or not y[train].any():
            continue
        eps = 0.5 / train.sum()
        for method in maps:
            p = np.clip(_apply_map(_fit_map(method, x[train], y[train], None), x[test]), eps, 1 - eps)
            each = -np.where(y[test], np.log(p), np.log1p(-p))
            loss[method]["all"] += float(each.sum())
            loss[method]["top"] += float(each[high[test]].sum())
    return {m: {"top": v["top"] / max(high.sum(), 1), "all": v["all"] / len(y)} for m, v in loss.items()}


def _grid(x) -> np.ndarray:
    """Log-odds at which the bootstrap replicates are stored: evenly over the range and at quantiles of
    the rows, denser at the top of the ranking where the offers are."""
    q = np.quantile(x, np.r_[np.linspace(0, 0.98, 50), np.linspace(0.98, 1, 41)])
    return np.unique(np.r_[np.linspace(x.min(), x.max(), 60), q])


def _fit_map(method: str, x, y, weight, start: dict | None = None) -> dict:
    """One candidate map fitted on log-odds ``x`` (weights: bootstrap counts, or None); ``start``: a
    fitted map of the same method whose coefficients start the search (the bootstrap's replicates)."""
    if method == "isotonic_log_odds":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(x, y.astype(float), sample_weight=weight)
        return {
            "method": method,
            "x": iso.X_thresholds_.tolist(),
            "p": iso.y_thresholds_.tolist(),
        }
    init = [start["a"], start["b"]] if start and start["method"] == method and start["a"] < 0 else None
    a, b = platt_fit(x[:, None], y, weight, init)
    if a >= 0:  # a map that falls with the score: the sample cannot rank; the base rate for everyone
        rate = float(np.average(y, weights=weight))
        a, b = 0.0, float(-log_odds(rate))
    return {"method": "platt_log_odds", "a": a, "b": b}


def _apply_map(fitted: dict, x) -> np.ndarray:
    """A fitted map's probability at log-odds ``x``."""
    x = np.asarray(x, dtype=float)
    method = fitted.get("method", "platt_log_odds")
    if method == "isotonic_log_odds":
        return np.interp(x, np.asarray(fitted["x"], dtype=float), np.asarray(fitted["p"], dtype=float))
    z = fitted["a"] * x + fitted["b"]
    return 1.0 / (1.0 + np.exp(np.clip(z, -700, 700)))


def platt(x, y) -> tuple[float, float]:
    """Platt's sigmoid fit (Platt 1999, as scikit-learn's ``CalibratedClassifierCV(method="sigmoid")``):
    ``(a, b)`` of p = 1 / (1 + exp(a·x + b)) minimising the log loss against Platt's smoothed targets
    (N₊+1)/(N₊+2) and 1/(N₋+2), by L-BFGS with the exact gradient; scikit-learn's fitting class is
    private, so the same objective is written here on SciPy's public functions."""
    a, b = platt_fit(np.asarray(x, dtype=float)[:, None], y)
    return a, b


def platt_fit(X, y, weight=None, start=None) -> list[float]:
    """Platt's objective with several inputs: coefficients ``(w₁ … w_k, b)`` of
    p = 1 / (1 + exp(X·w + b)) minimising the (weighted) log loss against Platt's smoothed targets, rows
    weighted by ``weight`` (None: 1 each), by Newton's method with step halving (the objective is convex;
    a handful of steps from ``start``, a fitted map's coefficients, or from 0 and the smoothed base rate)."""
    from scipy.special import expit, log_expit

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=bool)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    pos = float(w[y].sum())
    neg = float(w.sum()) - pos
    target = np.where(y, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0))
    A = np.c_[X, np.ones(len(y))]

    def loss(coef):
        z = A @ coef
        return -(w * (target * log_expit(-z) + (1 - target) * log_expit(z))).sum()

    coef = (
        np.r_[np.zeros(X.shape[1]), math.log((neg + 1.0) / (pos + 1.0))]
        if start is None
        else np.asarray(start, dtype=float)
    )
    value = loss(coef)
    for _ in range(100):
        q = expit(-(A @ coef))  # the fitted probability
        grad = A.T @ (w * (target - q))
        hess = (A * (w * q * (1 - q))[:, None]).T @ A
        step = np.linalg.lstsq(hess + 1e-12 * np.eye(len(coef)), grad, rcond=None)[0]
        for _ in range(40):  # halve the step until the loss falls
            trial = coef - step
            new = loss(trial)
            if new <= value:
                break
            step = step / 2
        else:
            break
        done = value - new <= 1e-12 * max(abs(value), 1.0)
        coef, value = trial, new
        if done:
            break
    return [float(v) for v in coef]


def apply_scan_calibration(calibration: dict, raw, history=None) -> np.ndarray:
    """The probability of :func:`scan_calibration`'s map for raw forest scores and, for a map with a
    history term, the families' history inputs (:func:`history_matrix`; None: no term). Older stored
    maps (Platt without a method's name or a floor, no history) apply as before."""
    p = _apply_map(calibration, log_odds(raw, calibration.get("floor", 1e-6)))
    return _with_history(calibration, p, history)


def scan_calibration_replicates(calibration: dict, raw, history=None) -> np.ndarray | None:
    """The bootstrap replicates of the map (:func:`scan_calibration`) at raw forest scores (with each
    replicate's history coefficients): an array (replicates × scores), or None for a map stored without
    them."""
    reps = calibration.get("replicates")
    if not reps:
        return None
    x = log_odds(raw, calibration.get("floor", 1e-6))
    grid = np.asarray(calibration["grid"], dtype=float)
    coefs = (calibration.get("history") or {}).get("replicates") or [None] * len(reps)
    return np.vstack(
        [
            _with_history(calibration, np.interp(x, grid, np.asarray(r, dtype=float)), history, c)
            for r, c in zip(reps, coefs, strict=True)
        ]
    )


def gap_bin(gap) -> np.ndarray:
    """The index of each gap's bin: 0 for gap ≤ 0 (the records show no entitlement), then by
    :data:`AMOUNT_GAP_EDGES`."""
    return np.searchsorted(np.asarray(AMOUNT_GAP_EDGES), np.asarray(gap, dtype=float), side="left")


def expected_true_amount(
    amounts: dict, records_amount, gap, visit=None, replicate: int | None = None
) -> np.ndarray:
    """The monthly amount a family would truly receive if it is truly entitled, from what its records
    show: the law's amount on records × the sample's ratio of true to recorded amount among the entitled
    of its gap bin (:func:`_scan_amounts`); for a family the records find not entitled (amount 0), the
    mean true amount of the sample's entitled in that bin. Older models (one ratio) scale by it.

    ``visit``: for families an earlier visit found entitled, the amount from what it verified
    (:func:`visit_amount`; NaN for the others): it replaces the bins' for them. ``replicate``: use that
    bootstrap replicate's bins (:func:`amount_replicates`) instead of the point's."""
    records_amount = np.asarray(records_amount, dtype=float)
    bins = amounts.get("by_gap")
    ratio = float(amounts.get("ratio") or 1.0)
    if not bins:
        out = records_amount * ratio
    else:
        index = gap_bin(gap)
        reps = amounts.get("replicates") or {}
        if replicate is not None and reps.get("ratio"):
            ratios = np.asarray(reps["ratio"][replicate], dtype=float)
            means = np.asarray(reps["mean_true_amount"][replicate], dtype=float)
        else:
            ratios = np.array([b["ratio"] for b in bins], dtype=float)
            means = np.array([b["mean_true_amount"] for b in bins], dtype=float)
        out = np.where(records_amount > 0, records_amount * ratios[index], means[index])
    if visit is not None:
        visit = np.asarray(visit, dtype=float)
        known = np.isfinite(visit)
        out = np.where(known, np.where(known, visit, 0.0), out)
    return out


def amount_replicate_count(amounts: dict) -> int:
    """How many bootstrap replicates of the amounts a model stores (0 for older models)."""
    return len((amounts.get("replicates") or {}).get("ratio") or ())
