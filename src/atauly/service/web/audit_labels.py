"""The audit trail as people read it: every action code the service writes, in words, and an event's
details as one short line (known keys in words, IINs masked; the raw JSON stays behind "technical
details" on the page). Messages are marked with ``N_`` and translated where shown (catalog web.po)."""

from __future__ import annotations

import re

from atauly.i18n import N_, Translator
from atauly.registry.labels import (
    APPLICATION_STATUSES,
    CORRECTABLE_FIELDS,
    OUTCOMES,
    OVERRIDE_REASONS,
    USER_ROLES,
)
from atauly.registry.quarter import Quarter, QuarterError

from ..display import masked_iin

#: Every action code the service audits (``audit.append``, ``casework.record``/``deny``/``load``, the
#: deciding, plans and trends helpers; tests/service/test_audit_labels.py checks none is missing).
ACTIONS = {
    "application.assign": N_("Case assigned to an officer"),
    "application.create": N_("Application registered"),
    "application.language": N_("Family's language changed"),
    "application.read": N_("Case opened"),
    "assessment.create": N_("Case assessed"),
    "audit.read": N_("Audit trail viewed"),
    "audit.rotate_key": N_("Signing key rotated"),
    "auth.login": N_("Sign-in"),
    "auth.logout": N_("Sign-out"),
    "auth.refresh": N_("Session renewed"),
    "auth.token": N_("Access by token"),
    "correction.create": N_("Data corrected"),
    "dashboard.read": N_("Dashboard viewed"),
    "decision.create": N_("Decision recorded"),
    "inspection.read": N_("Inspection act opened"),
    "inspection.save": N_("Inspection act saved"),
    "notice.read": N_("Notice opened"),
    "offer.create": N_("Offer prepared"),
    "offer.reply": N_("Family replied to an offer"),
    "offer.send": N_("Offer sent"),
    "offers.read": N_("Proactive search offers viewed"),
    "officers.read": N_("Officers' workload viewed"),
    "photos.finding": N_("Photo finding reviewed"),
    "photos.read": N_("Photos opened"),
    "photos.upload": N_("Photos uploaded"),
    "photos.view": N_("Photo viewed"),
    "plan.approve": N_("Exit plan approved"),
    "plan.document": N_("Exit plan printed"),
    "plan.draft": N_("Exit plan drafted"),
    "plan.monitoring": N_("Exit plan monitoring"),
    "plan.outcome": N_("Exit plan outcome recorded"),
    "plan.read": N_("Exit plans viewed"),
    "queue.read": N_("Queue viewed"),
    "recommendation.recompute": N_("Recommendation recomputed"),
    "scan.load": N_("Scan loaded"),
    "scan.read": N_("Scan report viewed"),
    "settings.read": N_("Settings viewed"),
    "settings.update": N_("Settings changed"),
    "statistics.read": N_("Statistics viewed"),
    "training_data.read": N_("Training data exported"),
    "trends.read": N_("Trends viewed"),
    "user.activate": N_("User activated"),
    "user.create": N_("User created"),
    "user.deactivate": N_("User deactivated"),
    "user.reset_password": N_("Password reset"),
    "user.revoke_tokens": N_("User's tokens revoked"),
    "user.unlock": N_("User unlocked"),
    "verification.create": N_("Verified data recorded"),
    "web.csrf": N_("Form check failed"),
    "web.session": N_("Page session refused"),
}
#: ``<action>.open``: the case opened in order to do ``<action>``.
OPENING = N_("{action} (opening the case)")

#: What an event was about (``object_type``), in words; the object's number or name follows.
OBJECTS = {
    "application": N_("application"),
    "audit": N_("audit trail"),
    "district": N_("district"),
    "family_plan": N_("exit plan"),
    "key": N_("signing key"),
    "offer": N_("offer"),
    "page": N_("page"),
    "plan_step": N_("plan step"),
    "queue": N_("queue"),
    "scan": N_("scan"),
    "settings": N_("settings"),
    "statistics": N_("statistics"),
    "summary": N_("summary"),
    "training_set": N_("training data"),
    "user": N_("user"),
}
_KATO = re.compile(r"^\d{9}$")

#: The detail keys an event may carry, in words.
KEYS = {
    "action": N_("action"),
    "answer": N_("answer"),
    "app_id": N_("application"),
    "application": N_("application"),
    "applications": N_("applications"),
    "assigned": N_("assigned"),
    "attempts": N_("attempts"),
    "blind": N_("blind mode"),
    "blind_mode": N_("blind mode"),
    "blind_only": N_("blind mode only"),
    "candidates": N_("candidates"),
    "changed": N_("changed"),
    "district": N_("district"),
    "districts": N_("districts"),
    "eligible_by_law": N_("eligible by law"),
    "facts": N_("facts"),
    "family_size": N_("family size"),
    "fields": N_("fields"),
    "finding": N_("finding"),
    "from": N_("from"),
    "kind": N_("kind"),
    "locked": N_("locked"),
    "measures": N_("measures"),
    "mode": N_("mode"),
    "model": N_("model"),
    "model_enabled": N_("model on"),
    "offset": N_("from event"),
    "outcome": N_("outcome"),
    "override": N_("departure from the recommendation"),
    "photo": N_("photo"),
    "photos": N_("photos"),
    "plan_id": N_("plan"),
    "purpose": N_("purpose"),
    "quarter": N_("quarter"),
    "rank": N_("rank"),
    "reason_code": N_("reason"),
    "recognised_source": N_("known address"),
    "repeated_submission": N_("repeated submission"),
    "role": N_("role"),
    "search": N_("search"),
    "seconds": N_("seconds"),
    "shown": N_("shown"),
    "state": N_("state"),
    "status": N_("status"),
    "to": N_("to"),
    "verify": N_("chain checked"),
    "version": N_("version"),
}
#: Keys whose text is free (English reasons, counts by reason): only in the technical details.
TECHNICAL = frozenset({"why"})
#: HTTP statuses a refusal records, in words.
STATUSES = {
    400: N_("bad request"),
    401: N_("not signed in"),
    403: N_("access denied"),
    404: N_("not found"),
    409: N_("changed meanwhile"),
    422: N_("invalid data"),
    429: N_("too many attempts"),
}
#: Coded values of a known key, in words (a value not listed is shown as it is).
VALUES = {
    "status": {"open": N_("open cases"), "decided": N_("decided cases"), "all": N_("all cases")},
    "state": APPLICATION_STATUSES,
    "outcome": {**OUTCOMES, "ok": N_("allowed"), "denied": N_("denied")},
    "reason_code": OVERRIDE_REASONS,
    "fields": CORRECTABLE_FIELDS,
    "role": USER_ROLES,
    "answer": {"agree": N_("agreed"), "refuse": N_("refused")},
    "mode": {"model": N_("model"), "law": N_("law only")},
    "assigned": {"me": N_("to me"), "none": N_("nobody yet")},
    "search": {"iin": N_("by IIN")},
}
_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")


def action_label(code: str, t: Translator) -> str:
    """An action code in words (a code this table does not know is shown as it is)."""
    if code in ACTIONS:
        return t(ACTIONS[code])
    if code.endswith(".open") and code[: -len(".open")] in ACTIONS:
        return t(OPENING, action=t(ACTIONS[code[: -len(".open")]]))
    return code


def object_label(kind: str, ident: str, t: Translator) -> str:
    """What an event was about: «заявление 897», «очередь: Шымкент» (a KATO code by its name; "*": all)."""
    from atauly.registry import codes

    from ..casework import district_name

    name = t(OBJECTS[kind]) if kind in OBJECTS else kind
    ident = str(ident or "")
    if _KATO.match(ident):
        region = codes.REGION_BY_KATO.get(ident)
        ident = codes.region_name(ident, t.lang) if region else district_name(ident, t.lang)
    elif ident == "*":
        ident = t("all")
    return f"{name} {ident}".strip()


def _value(key: str, value: object, t: Translator) -> str:
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if value is None:
        return "—"
    if key == "status" and isinstance(value, int) and value in STATUSES:
        return t(STATUSES[value])
    if key == "action" and isinstance(value, str):
        return action_label(value, t) if value else "—"
    if isinstance(value, str) and value in VALUES.get(key, {}):
        return t(VALUES[key][value])
    if key == "quarter" and isinstance(value, str):
        try:
            return Quarter.parse(value).label(t.lang)
        except QuarterError:
            return value
    if isinstance(value, int | float):
        return t.number(value, 0 if float(value).is_integer() else 2)
    if isinstance(value, list | tuple):
        return ", ".join(_value(key, v, t) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(k, v, t)}" for k, v in value.items()) or "—"
    return _IIN.sub(lambda m: masked_iin(m.group(0), t), str(value))


def detail_line(detail: dict | None, t: Translator) -> str:
    """An event's details as one short line: known keys in words, free text and unknown keys left to the
    technical details, IINs masked."""
    if not detail:
        return ""
    parts = [
        f"{t(KEYS[key])}: {_value(key, value, t)}"
        for key, value in detail.items()
        if key in KEYS and key not in TECHNICAL and value not in ("", None)
    ]
    return "; ".join(parts)


def technical(detail: dict | None) -> str:
    """The raw details for auditors, IINs masked as everywhere else (a 12-digit run keeps only its length)."""
    import json

    if not detail:
        return ""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    return _IIN.sub(lambda m: f"<{len(m.group(0))} chars hidden>", text)
