"""The family's language on an application: recorded at intake (``ApplicationIn.language``, Russian when
not given) and changed later by whoever may decide it (an officer in the district, a supervisor, an admin);
the notice is written in it unless another language is asked for. Every change is audited."""

from __future__ import annotations

from sqlalchemy.orm import Session as DB

from .. import casework
from ..models import Application, User
from .blocks import LANGS


def set_language(db: DB, user: User, app_id: int, lang: str) -> Application:
    """Record ``lang`` as the family's language of application ``app_id`` (audited, old → new)."""
    if lang not in LANGS:
        raise casework.ServiceError(422, f"language: use one of {', '.join(LANGS)}")
    if user.role not in ("officer", "supervisor", "admin"):
        raise casework.deny(
            db,
            user,
            "application.language",
            403,
            "your role cannot change applications",
            object_type="application",
            object_id=app_id,
        )
    app = casework.load(db, user, app_id, action="application.language.open")
    before = app.language
    app.language = lang
    casework.record(db, user, "application.language", app, detail={"from": before, "to": lang})
    db.commit()
    return app
