"""Running digests: which audiences, which period, written to a folder or queued once.

Each audience (a district, or the secretariat) keeps the end of its last
digest in ``app_state``; the next digest covers [that end, now).  The digest
mail's Message-ID is derived from the period's *start*, and the outbox's
Message-ID is unique, so two overlapping runs can queue it only once; the
period end is recorded in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from . import db
from .classify.engine import load_rulebook
from .config import Config, resolve_file, roster_file
from .digest import (
    SECRETARIAT,
    Digest,
    Period,
    build_district_digest,
    build_secretariat_digest,
    settling,
)
from .digest_files import digest_html, digest_mail, digest_text, visits_ics, xlsx_summary
from .errors import MailbotError
from .filing import FileStore
from .outbox import enqueue
from .progress import per_school, schools_by_district, settle_districts
from .report import submission


@dataclass(frozen=True)
class Outcome:
    audience: str
    result: str  # "queued", "written", "nothing new", "no address", "already queued"


def _state_key(audience: str) -> str:
    return f"digest:{audience}"


def audiences(cfg: Config, district: str | None = None, secretariat: bool = False) -> list[str]:
    names = [d.name for d in cfg.districts]
    if district:
        if district not in names:
            raise MailbotError(f"配置中没有片区“{district}” (no such district): {'、'.join(names)}")
        return [district]
    return [SECRETARIAT] if secretariat else [*names, SECRETARIAT]


def build(cfg: Config, audience: str, rows: list[dict], period: Period, now: datetime) -> Digest:
    by_district = schools_by_district(load_rulebook(cfg.rules_dir, roster_file(cfg)).directory,
                                      [d.name for d in cfg.districts])
    rows = settle_districts(per_school(rows), by_district)
    if audience == SECRETARIAT:
        return build_secretariat_digest(rows, by_district, cfg, period, now)
    return build_district_digest(audience, rows, by_district[audience], cfg, period, now)


def _recipient(cfg: Config, audience: str) -> str:
    if audience == SECRETARIAT:
        return cfg.secretariat.email
    return next(d.email for d in cfg.districts if d.name == audience)


def run(engine: Engine, cfg: Config, names: list[str], now: datetime | None = None,
        outdir: Path | None = None, only_if_new: bool = True, remind: bool = False
        ) -> list[Outcome]:
    """Write (``outdir``) or queue the digests of *names* for the period since their last one.

    With *only_if_new*, an audience whose period brought nothing (:attr:`Digest.news`) gets
    no mail — unless *remind* (a deadline is near) and some school is still missing
    something (:attr:`Digest.chasing`)."""
    now = now or datetime.now(UTC)
    tz = ZoneInfo(cfg.campaign.timezone)
    store = FileStore(cfg.storage.data_dir)
    override = str(resolve_file(cfg, cfg.digest.template_dir)) if cfg.digest.template_dir else ""
    with db.transaction(engine) as s:
        rows = [submission(m, tz) for m in db.submissions(s)]
    outcomes = []
    for name in names:
        with db.transaction(engine) as s:
            state = db.get_state(s, _state_key(name))
        last = state.get("end")
        period = Period(datetime.fromisoformat(last) if last else None, now,
                        frozenset(state.get("seen", ())))
        digest = build(cfg, name, rows, period, now)
        if outdir is not None:
            _write(outdir, digest, cfg, override)
            outcomes.append(Outcome(name, "written"))
            continue
        to = _recipient(cfg, name)
        if not to:
            outcomes.append(Outcome(name, "no address"))
            continue
        if only_if_new and last and not digest.news and not (remind and digest.chasing):
            outcomes.append(Outcome(name, "nothing new"))
            continue
        start = period.start.astimezone(UTC).strftime("%Y%m%d%H%M%S") if period.start else "first"
        local_id = f"digest-{hashlib.sha1(name.encode()).hexdigest()[:8]}-{start}"
        mail = digest_mail(digest, cfg, to, cfg.digest.cc, lambda p: store.path(p).read_bytes(),
                           cfg.digest.attach_limit_mb * 1024 * 1024, override, now, local_id)
        try:
            with db.transaction(engine) as s:
                enqueue(s, "digest", mail, None, now)
                db.set_state(s, _state_key(name), {"end": now.isoformat(),
                                                   "seen": settling(rows, now)})
            outcomes.append(Outcome(name, "queued"))
        except IntegrityError:
            outcomes.append(Outcome(name, "already queued"))
    return outcomes


def _write(outdir: Path, d: Digest, cfg: Config, override: str) -> None:
    """The preview files of one digest: .txt, .html, .xlsx and (with visits) .ics."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / f"{d.audience}.txt").write_text(digest_text(d, cfg, override), encoding="utf-8")
    (outdir / f"{d.audience}.html").write_text(digest_html(d, cfg, {}, override),
                                               encoding="utf-8")
    (outdir / f"{d.audience}.xlsx").write_bytes(xlsx_summary(d))
    if d.visits:
        (outdir / f"{d.audience}.ics").write_bytes(visits_ics(d, cfg))
