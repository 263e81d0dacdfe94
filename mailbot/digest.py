"""Periodic digests: what each district's schools sent, and what is still missing.

Pure functions over ``report.submission`` dicts (no DB, no network).  A district
digest goes to the district leader; the secretariat digest ("秘书处") covers all
districts plus the mail that needs a person (待确认学校, 已隔离).

Rules, in one place:

* the period is half-open ``[start, end)`` on when mailbot recorded the mail
  (``recorded_at``; ``received_at`` for a row without it), start None = from the
  beginning: consecutive digests never show a message twice, and a mail that arrived
  before a digest but was recorded after it (the mailbox unreachable, the daemon down, an
  import) is in the next one.  A mail recorded in the :data:`SETTLE` before ``start`` that
  the previous digest did not see (committed as it read: ``Period.seen`` holds the ids it
  saw then) is in this one;
* a row belongs to a district when its ``district`` is that district, or when it
  has no district and its school is one of the district's schools;
* "sent" (missing list, matrix) means an *accepted* message of that kind received
  before ``period.end``; ignored / quarantined / needs_school never count; the matrix
  marks a plan △ (``plan_incomplete``) while every plan sent lacks template items;
* a deliverable is listed as missing only once its phase has opened;
  ``days_left`` = due date minus today in the campaign time zone (negative = 已截止);
* a bundle (a leader's mail forwarding several schools' mails) is listed only for what it
  delivers itself: its forwarded mails are rows of their own schools (``part_of``);
* visits come from accepted plans of every district (others may join): one per school,
  its latest plan's (a revised plan moves the visit), shown while ``visit_date`` >= today.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .config import Config
from .progress import cell, complete_plan, per_school
from .report import KIND_ZH
from .rows import a_reply, merged_into

SECRETARIAT = "秘书处"
UNASSIGNED = "未分配片区"
KINDS = ("plan", "news", "video")
SETTLE = timedelta(minutes=1)  # longer than any intake transaction: a mail's recorded_at is
# taken a moment before its commit, which a digest reading then does not see yet
TOTAL_KEYS = ("messages", "accepted", "needs_school", "ignored", "quarantined", "files", "links")


@dataclass(frozen=True)
class Period:
    start: datetime | None
    end: datetime
    seen: frozenset[int] = frozenset()  # rows the previous digest saw in its last SETTLE

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and moment < self.end

    def lists(self, row: dict) -> bool:
        """Whether *row* is new in this period (see the module's rules)."""
        if not row.get("recorded_at"):
            return self.contains(received(row))
        moment = datetime.fromisoformat(row["recorded_at"])
        if self.start is not None and self.start - SETTLE <= moment < self.start:
            return row["id"] not in self.seen
        return self.contains(moment)


@dataclass(frozen=True)
class SchoolSection:
    school: str
    items: tuple[dict, ...]


@dataclass(frozen=True)
class Missing:
    kind: str
    kind_name: str
    due: date | None
    days_left: int | None
    schools: tuple[str, ...]
    incomplete: tuple[str, ...] = ()  # plan: sent, but every plan lacks template items (△)


@dataclass(frozen=True)
class Visit:
    date: str
    time: str
    place: str
    host_school: str
    contact: str
    phone: str
    submission_id: int
    uid: str = ""  # the calendar event's: one per school (:func:`_uid`)


@dataclass(frozen=True)
class Digest:
    audience: str
    period: Period
    sections: tuple[SchoolSection, ...]
    missing: tuple[Missing, ...]
    late: tuple[dict, ...]
    needs_school: tuple[dict, ...]
    quarantined: tuple[dict, ...]
    visits: tuple[Visit, ...]
    matrix: tuple[tuple[str, str, dict[str, bool]], ...]
    totals: dict[str, int] = field(default_factory=dict)
    questions: tuple[dict, ...] = ()  # mail that only asks something: the secretariat answers
    updated: tuple[dict, ...] = ()  # earlier submissions a reply completed in the period
    roster: bool = True  # the districts' member schools are known (a roster was imported):
    # without it only the schools that wrote are counted, and none is "all sent"

    @property
    def is_secretariat(self) -> bool:
        return self.audience == SECRETARIAT

    @property
    def items(self) -> tuple[dict, ...]:
        """Every item of the sections, in section order."""
        return tuple(r for s in self.sections for r in s.items)

    @property
    def news(self) -> bool:
        """Whether the period brought anything for its reader: material, or for the
        secretariat mail that waits for a person (no school, quarantined, a question)."""
        return bool(self.items or self.updated or self.needs_school or self.quarantined
                    or self.questions)

    @property
    def chasing(self) -> bool:
        """Whether some school has yet to send a deliverable now open (or a complete plan)."""
        return any(m.schools or m.incomplete for m in self.missing)


# -- wording shared by the templates and the mail (digest_files) --

def day_zh(day: date, year: bool = True) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if year else f"{day.month}月{day.day}日"


def period_zh(p: Period, tz: ZoneInfo) -> str:
    """[7/1 00:00, 7/8 00:00) -> "2024年7月1日至7月7日"; other times are shown."""
    end = p.end.astimezone(tz)
    start = p.start.astimezone(tz) if p.start else None
    if end.time() == time(0) and (start is None or start.time() == time(0)):
        last = (end - timedelta(days=1)).date()
        if start is None:
            return f"截至{day_zh(last)}"
        same = start.year == last.year
        return day_zh(start.date()) + ("" if start.date() == last else
                                       f"至{day_zh(last, year=not same)}")
    e = f"{day_zh(end.date())} {end:%H:%M}"
    return f"截至{e}" if start is None else f"{day_zh(start.date())} {start:%H:%M} 至 {e}"


def short_name(cfg: Config) -> str:
    return getattr(cfg.campaign, "short_name", "") or "接力行"


def received(row: dict) -> datetime:
    """The row's ``received_at`` as an aware datetime."""
    return datetime.fromisoformat(row["received_at"])


def _accepted(row: dict) -> bool:
    return row.get("status") == "accepted"


_MERGED = re.compile(re.escape(merged_into()) + r"(\d+)\)")


def _updated(period: Period, rows: Sequence[dict], mine: Sequence[dict],
             shown: Sequence[dict]) -> tuple[dict, ...]:
    """The accepted submissions of *mine* that a reply to their receipt, recorded in
    *period* among *rows*, added files or links to or gave their school — as they stand
    now; not those *shown* as new anyway."""
    targets = {int(m.group(1)) for r in rows if period.lists(r)
               and (m := _MERGED.search(r.get("status_reason") or ""))}
    new = {r["id"] for r in shown}
    return tuple(r for r in mine if r["id"] in targets - new and _accepted(r) and r.get("school"))


def settling(rows: Sequence[dict], end: datetime) -> list[int]:
    """The ids of *rows* recorded in the :data:`SETTLE` before *end* (``Period.seen`` of the
    digest after the one ending at *end*)."""
    return sorted({r["id"] for r in rows if r.get("recorded_at") and
                   end - SETTLE <= datetime.fromisoformat(r["recorded_at"]) < end})


def _in(period: Period, rows: Sequence[dict]) -> list[dict]:
    return sorted((r for r in rows if period.lists(r)),
                  key=lambda r: (received(r), r["id"]))


def _sections(rows: Sequence[dict], order: Sequence[str]) -> tuple[SchoolSection, ...]:
    """Accepted rows with a school, grouped per school: *order* first, then by name; not a
    bundle that delivers nothing itself (its mails are listed under their schools)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if _bundle(r) and not (r.get("kinds") or r.get("attachments") or r.get("links")) \
                or question(r):
            continue
        if _accepted(r) and r.get("school"):
            groups.setdefault(r["school"], []).append(r)
    rank = {s: i for i, s in enumerate(order)}
    names = sorted(groups, key=lambda s: (rank.get(s, len(rank)), s))
    return tuple(SchoolSection(s, tuple(groups[s])) for s in names)


def question(row: dict) -> str:
    """The question a mail only asks ("请问新闻稿发给谁？"), sending nothing; "" otherwise."""
    if row.get("kinds") or row.get("attachments") or row.get("links"):
        return ""
    detail = next((e.get("detail", "") for e in row.get("evidence") or ()
                   if e.get("rule") == "kind.question"), "")
    quoted = detail.partition("“")[2].rpartition("”")[0]  # 只是提问（“…”），没有附件或链接…
    return quoted or detail


def _bundle(row: dict) -> bool:
    return any(e.get("rule") == "bundle" for e in row.get("evidence") or ())


def _sent(rows: Sequence[dict], end: datetime) -> dict[str, set[str]]:
    """school -> kinds it has sent (accepted) before *end*."""
    out: dict[str, set[str]] = {}
    for r in rows:
        if _accepted(r) and r.get("school") and received(r) < end:
            out.setdefault(r["school"], set()).update(r.get("kinds") or ())
    return out


def _complete(rows: Sequence[dict], end: datetime) -> set[str]:
    """The schools with a complete plan (no template item missing) before *end*."""
    return {r["school"] for r in rows if complete_plan(r) and r.get("school")
            and received(r) < end}


def _today(cfg: Config, now: datetime) -> date:
    return now.astimezone(ZoneInfo(cfg.campaign.timezone)).date()


def _missing(schools: Sequence[str], sent: Mapping[str, set[str]], cfg: Config,
             today: date, complete: set[str]) -> tuple[Missing, ...]:
    """Per kind open by *today*: the schools yet to send it, and for the plan those whose
    every plan lacks template items (not in *complete*): a leader chases both."""
    phases = cfg.campaign.phases or ()
    out = []
    for kind in KINDS:
        phase = next((p for p in phases if p.kind == kind), None)
        if (phases and phase is None) or (phase and phase.opens and phase.opens > today):
            continue
        due = phase.due if phase else None
        out.append(Missing(kind=kind, kind_name=(phase.name if phase else "") or KIND_ZH[kind],
                           due=due, days_left=(due - today).days if due else None,
                           schools=tuple(s for s in schools if kind not in sent.get(s, ())),
                           incomplete=tuple(s for s in schools if kind == "plan"
                                            and kind in sent.get(s, ()) and s not in complete)))
    return tuple(out)


def _uid(school: str) -> str:
    """The calendar event of *school*'s visit: one per school, kept by every later plan."""
    return hashlib.sha256(school.encode()).hexdigest()[:12]


def _visits(rows: Sequence[dict], today: date) -> tuple[Visit, ...]:
    latest: dict[str, dict] = {}  # a school's latest accepted plan giving a date: a revised
    for r in sorted(rows, key=lambda r: (received(r), r["id"])):  # plan moves the visit
        if _accepted(r) and "plan" in (r.get("kinds") or ()) and \
                (r.get("plan_info") or {}).get("visit_date"):
            latest[r.get("school") or ""] = r
    found = []
    for school, r in latest.items():
        info = r["plan_info"]
        day = info["visit_date"]
        try:
            if date.fromisoformat(day) < today:
                continue
        except ValueError:
            continue
        phone = info.get("phone") or ""
        contact = (info.get("contact") or "").replace(phone, " ").strip(" ，,、；;：:") if phone \
            else info.get("contact") or ""  # "王喆 028-87600512": the phone is given apart
        found.append(Visit(date=day, time=info.get("visit_time") or "",
                           place=info.get("place") or "", host_school=school,
                           contact=contact, phone=phone, submission_id=r["id"],
                           uid=_uid(school)))
    return tuple(sorted(found, key=lambda v: (v.date, v.time, v.host_school)))


def _row_matrix(district: str, schools: Sequence[str], sent: Mapping[str, set[str]],
                complete: set[str]):
    return tuple((district, s, cell(sent.get(s, ()), s in complete)) for s in schools)


def _totals(rows: Sequence[dict]) -> dict[str, int]:
    totals = dict.fromkeys(TOTAL_KEYS, 0)
    mails = {r["id"]: r for r in rows}  # a leader's mail credited to schools is one mail
    totals["messages"] = len(mails)
    for r in mails.values():
        if r.get("status") in totals:
            totals[r["status"]] += 1
    for r in rows:
        if _accepted(r):
            totals["files"] += len(r.get("attachments") or ())
            totals["links"] += len(r.get("links") or ())
    return totals


def _belongs(row: dict, district: str, schools: set[str]) -> bool:
    return row.get("district") == district or (not row.get("district")
                                               and row.get("school") in schools)


def build_district_digest(district: str, rows: Sequence[dict], schools_of_district: Sequence[str],
                          cfg: Config, period: Period, now: datetime) -> Digest:
    """The digest for one district leader: only that district's schools (a leader's files
    of its schools count for those schools: :func:`~.progress.per_school`)."""
    rows = per_school(list(rows))
    official = set(schools_of_district)
    mine = [r for r in rows if _belongs(r, district, official)]
    extra = sorted({r["school"] for r in mine if _accepted(r) and r.get("school")} - official)
    schools = [*dict.fromkeys(schools_of_district), *extra]
    current = _in(period, mine)
    sent, today = _sent(mine, period.end), _today(cfg, now)
    complete = _complete(mine, period.end)
    return Digest(
        audience=district, period=period, sections=_sections(current, schools),
        missing=_missing(schools, sent, cfg, today, complete),
        late=tuple(r for r in current if _accepted(r) and r.get("late")),
        needs_school=(), quarantined=(), visits=_visits(rows, today),
        updated=_updated(period, rows, mine, current),
        matrix=_row_matrix(district, schools, sent, complete),
        totals=_totals(current),
        roster=len(set(schools_of_district)) > 1)


def build_secretariat_digest(rows: Sequence[dict], schools_by_district: Mapping[str, Sequence[str]],
                             cfg: Config, period: Period, now: datetime) -> Digest:
    """The secretariat's digest: every district, plus what needs a person."""
    rows = per_school(list(rows))
    order = [d.name for d in cfg.districts]
    districts = sorted((d for d in schools_by_district if d),
                       key=lambda d: (order.index(d) if d in order else len(order), d))
    for r in rows:   # districts known only from the rows (e.g. assigned by a roster)
        if r.get("district") and r["district"] not in districts:
            districts.append(r["district"])
    members: dict[str, list[str]] = {d: list(dict.fromkeys(schools_by_district.get(d, ())))
                                     for d in districts}
    placed = {s for names in members.values() for s in names}
    unassigned: set[str] = set()
    for r in rows:
        school = r.get("school")
        if not (_accepted(r) and school) or school in placed:
            continue
        if r.get("district"):
            members[r["district"]].append(school)
            placed.add(school)
        else:
            unassigned.add(school)
    sent, today = _sent(rows, period.end), _today(cfg, now)
    complete = _complete(rows, period.end)
    groups = [*members.items(), *([(UNASSIGNED, sorted(unassigned))] if unassigned else [])]
    all_schools = [s for _, names in groups for s in names]
    current = _in(period, rows)
    return Digest(
        audience=SECRETARIAT, period=period, sections=_sections(current, all_schools),
        missing=_missing(all_schools, sent, cfg, today, complete),
        late=tuple(r for r in current if _accepted(r) and r.get("late")),
        needs_school=tuple(r for r in current if r.get("status") == "needs_school"),
        quarantined=tuple(r for r in current if r.get("status") == "quarantined"),
        questions=tuple(r for r in current if (r.get("status") in ("accepted", "needs_school")
                                               or a_reply(r.get("status_reason"))) and question(r)),
        visits=_visits(rows, today), updated=_updated(period, rows, rows, current),
        matrix=tuple(m for d, names in groups for m in _row_matrix(d, names, sent, complete)),
        totals=_totals(current),
        roster=any(len(set(names)) > 1 for names in schools_by_district.values()))
