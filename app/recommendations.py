"""Recommendations: ranked matches stored with their reasons, "not interested", and the digests
that push them to both sides with per-person limits.

A stored match survives re-ranking when someone has seen it (pushed) or dismissed it, so a
dismissed need is never pushed again and a pushed one does not vanish from a person's list.
"""
import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from . import matching
from .extensions import db
from .models import AppUser, Channel, Match, Need, NeedState, Researcher, ResearcherState
from .models.enums import MatchDirection
from .models.mixins import utcnow
from .models.researcher import researcher_fields
from .workflows.errors import WorkflowError


def _fields_of(researcher_ids):
    fields = {}
    for rid, fid in db.session.execute(select(researcher_fields.c.researcher_id,
                                              researcher_fields.c.field_id)
                                       .where(researcher_fields.c.researcher_id.in_(researcher_ids))):
        fields.setdefault(rid, set()).add(fid)
    return fields


def _store(found: dict, existing, direction) -> int:
    """Upsert ``found`` {(need_id, researcher_id): (score, reasons)} over the ``existing`` rows
    of the same scope; drop rows nobody has seen that fell out of the ranking."""
    for row in existing:
        key = (row.need_id, row.researcher_id)
        if key in found:
            row.score, row.reasons = found.pop(key)
        elif not row.dismissed and row.pushed_at is None and row.enterprise_pushed_at is None:
            db.session.delete(row)
    for (need_id, researcher_id), (score, why) in found.items():
        db.session.add(Match(need_id=need_id, researcher_id=researcher_id, score=score,
                             reasons=why, direction=direction))
    db.session.flush()
    return len(found)


def _explained(corpus, pairs):
    """Reasons for each (need_id, researcher_id, score)."""
    need_ids = {n for n, _r, _s in pairs}
    researcher_ids = {r for _n, r, _s in pairs}
    needs = dict(db.session.execute(select(Need.id, Need.match_terms)
                                    .where(Need.id.in_(need_ids))).all())
    need_fields = dict(db.session.execute(select(Need.id, Need.field_id)
                                          .where(Need.id.in_(need_ids))).all())
    profiles = dict(db.session.execute(select(Researcher.id, Researcher.match_terms)
                                       .where(Researcher.id.in_(researcher_ids))).all())
    fields = _fields_of(researcher_ids)
    return {(n, r): (round(s, 4), matching.reasons(corpus, needs[n] or {}, need_fields[n],
                                                    profiles[r] or {}, fields.get(r, set())))
            for n, r, s in pairs}


def rank_for_need(need_id: int, corpus=None) -> int:
    """Rank the approved researchers for a published need and store the best. Returns how
    many new matches were stored."""
    need = db.session.get(Need, need_id)
    if need is None or need.state is not NeedState.published:
        return 0
    corpus = corpus or matching.load_corpus(db.session)
    ranked = matching.researchers_for_need(corpus, need.match_terms or {}, need.field_id)
    found = _explained(corpus, [(need_id, rid, score) for rid, score in ranked])
    existing = db.session.scalars(select(Match).where(Match.need_id == need_id)).all()
    return _store(found, existing, MatchDirection.need_to_researcher)


def rank_for_researcher(researcher_id: int, corpus=None) -> int:
    researcher = db.session.get(Researcher, researcher_id)
    if researcher is None or researcher.state is not ResearcherState.approved:
        return 0
    corpus = corpus or matching.load_corpus(db.session)
    field_ids = _fields_of([researcher_id]).get(researcher_id, set())
    ranked = matching.needs_for_researcher(corpus, researcher.match_terms or {}, field_ids)
    found = _explained(corpus, [(nid, researcher_id, score) for nid, score in ranked])
    existing = db.session.scalars(select(Match).where(Match.researcher_id == researcher_id)).all()
    return _store(found, existing, MatchDirection.researcher_to_need)


def describe(reasons: dict) -> list[str]:
    """A match's reasons as short phrases in the reader's language."""
    from .models import TechDomain, TechField

    parts = []
    if reasons.get("same") == "field" and reasons.get("field_id"):
        field = db.session.get(TechField, reasons["field_id"])
        parts.append(_("same technical field: %(name)s", name=field.label if field else ""))
    elif reasons.get("same") == "domain" and reasons.get("domain_id"):
        domain = db.session.get(TechDomain, reasons["domain_id"])
        parts.append(_("same technical domain: %(name)s", name=domain.label if domain else ""))
    if reasons.get("keywords"):
        parts.append(_("shared keywords: %(words)s", words="、".join(reasons["keywords"])))
    return parts or [_("related by the text of the need")]


def dismiss(match: Match, user, reason: str):
    """The researcher is not interested: never pushed again, hidden from their list."""
    if user is None or user.researcher_id != match.researcher_id:
        raise WorkflowError(_("Only the researcher of a recommendation can dismiss it."))
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please say why the need does not interest you."))
    match.dismissed, match.dismiss_reason = True, reason[:500]
    db.session.flush()


# --- Digests --------------------------------------------------------------------------------------

def _sms_per_day() -> int:
    return current_app.config.get("DIGEST_SMS_PER_DAY", 1)


def send_digests(period: str, today: dt.date | None = None) -> int:
    """Push every match nobody has been told about: one digest per person and period (site and
    e-mail), an SMS at most ``DIGEST_SMS_PER_DAY`` times a day. ``period`` names the digest run
    (e.g. the date or the hour): running it again never sends twice. Returns digests created."""
    from .notify import notify

    today = today or utcnow().date()
    now = utcnow()
    sent = 0
    fresh = db.session.scalars(select(Match).where(Match.dismissed.is_(False))
                               .join(Need, Need.id == Match.need_id)
                               .where(Need.state == NeedState.published)).all()
    by_researcher, by_enterprise = {}, {}
    for match in fresh:
        if match.pushed_at is None:
            by_researcher.setdefault(match.researcher_id, []).append(match)
        if match.enterprise_pushed_at is None:
            by_enterprise.setdefault(match.need.enterprise_id, []).append(match)
    sides = (("researcher", AppUser.researcher_id, by_researcher, "pushed_at"),
             ("enterprise", AppUser.enterprise_id, by_enterprise, "enterprise_pushed_at"))
    for side, column, groups, stamp in sides:
        for owner_id, matches in groups.items():
            users = db.session.scalars(select(AppUser).where(column == owner_id)).all()
            payload = {"side": side, "count": len(matches), "path": "/recommended/",
                       "needs": sorted({m.need_id for m in matches}),
                       "researchers": sorted({m.researcher_id for m in matches})}
            for user in users:
                channels = [Channel.site] + ([Channel.email] if user.email else [])
                notify(user, f"match.digest_{side}", payload,
                       f"digest:{period}:{side}{owner_id}", channels=channels)
                if user.phone:
                    for slot in range(_sms_per_day()):
                        # One key per day and slot: a second digest the same day finds the
                        # slot taken and sends no SMS.
                        key = f"digest-sms:{today.isoformat()}:{slot}"
                        taken = notify(user, f"match.digest_{side}", payload, key,
                                       channels=[Channel.sms])
                        if taken:
                            break
                sent += 1
            for match in matches:
                setattr(match, stamp, now)
    db.session.flush()
    return sent
