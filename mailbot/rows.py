"""A message's rows as the intake writes them, from what it found (pure): the column values
of a classification, of its links and of its filed attachments, and which attachments
are the message's at all."""

from __future__ import annotations

from . import db
from .classify.engine import Classification
from .classify.forwards import own_content
from .classify.plan import PLAN_INFO
from .models import Attachment, Link, Message
from .parse import ParsedMessage


def all_attachments(p: ParsedMessage, forwarded: bool = False):
    """(attachment, forwarded?) for every file that is *p*'s as one submission: a
    bundle's own files only (its forwarded mails are parts, with files of their own)."""
    p = p if forwarded else own_content(p)
    for att in p.attachments:
        yield att, forwarded
    for inner in p.forwarded:
        yield from all_attachments(inner, True)


def every_attachment(p: ParsedMessage):
    """Every file in *p*, forwarded mail's included, bundle or not (what a repair may need:
    files recorded before bundles were split belong to the bundle's own row)."""
    yield from p.attachments
    for inner in p.forwarded:
        yield from every_attachment(inner)


def attachment_values(files: list) -> list[dict]:
    """Attachment rows (column values) for filed attachments."""
    return [{"position": pos, "filename": db.clean(att.filename),
             "content_type": db.clean(att.content_type), "size": stored.size,
             "sha256": stored.sha256, "path": stored.path, "inline": att.inline,
             "forwarded": forwarded} for pos, att, stored, forwarded in files]


def attachment_rows(files: list) -> list[Attachment]:
    return [Attachment(**values) for values in attachment_values(files)]


def verdict_values(verdict: Classification | None, status: str, reason: str
                   ) -> tuple[dict, list[dict]]:
    """A classification as message column values, and its link rows."""
    v = verdict
    plan = v.plan if v else None
    values = {
        "status": status, "status_reason": db.clean(reason)[:2000],
        "school": v.school if v else None, "district": v.district if v else None,
        "kinds": list(v.kinds) if v else [], "late": v.late if v else False,
        "plan_missing": list(plan.missing) if plan else [],
        "plan_info": {k: getattr(plan, k) for k in PLAN_INFO} if plan else {},
        "evidence": [{"field": f, "rule": e.rule, "detail": db.clean(e.detail)}
                     for f, e in (v.evidence if v else ())],
        "credits": [{"school": c.school, "district": c.district, "kinds": list(c.kinds),
                     "files": [db.clean(f) for f in c.files],
                     "links": [db.clean(u) for u in c.links],
                     "plan_missing": list(c.plan_missing), "plan_info": dict(c.plan_info),
                     "late": c.late}
                    for c in (v.credits if v else ())]}
    links = [{"position": i, "url": db.clean(ln.url), "platform": ln.platform,
              "title": db.clean(ln.title), "size": ln.size, "expires": ln.expires,
              "password": db.clean(ln.password)} for i, ln in enumerate(v.links if v else ())]
    return values, links


def apply_verdict(msg: Message, verdict: Classification | None, status: str,
                  reason: str) -> None:
    """Write a classification onto a message row (links replaced)."""
    values, links = verdict_values(verdict, status, reason)
    for key, value in values.items():
        setattr(msg, key, value)
    msg.links = [Link(**link) for link in links]


def merged_credits(earlier: list[dict], later: list[dict]) -> list[dict]:
    """*earlier* credits (column values) with *later* ones added: a school's files and
    kinds joined, the later plan check and visit taking over when it found a plan."""
    out = {c["school"]: dict(c) for c in earlier}
    for c in later:
        if c["school"] not in out:
            out[c["school"]] = dict(c)
            continue
        old = out[c["school"]]
        old["kinds"] = [k for k in ("plan", "news", "video") if k in old["kinds"] + c["kinds"]]
        old["files"] = old["files"] + [f for f in c["files"] if f not in old["files"]]
        old["links"] = old.get("links", []) + [u for u in c.get("links", ())
                                               if u not in old.get("links", [])]
        old["late"] = bool(old.get("late") or c.get("late"))
        if "plan" in c["kinds"]:
            old["plan_missing"], old["plan_info"] = c["plan_missing"], c.get("plan_info") or {}
    return list(out.values())


def answered(missing: list[str], info: dict, check) -> tuple[list[str], dict, list[str]]:
    """A plan's *missing* fields and *info* (plan_info) after a reply whose own plan check
    is *check*: the fields the reply filled are no longer missing, and what it says of the
    visit fills what was empty.  Returns (missing, info, the fields answered)."""
    done = [f for f in missing if f in check.found]
    filled = {k: getattr(check, k) for k in PLAN_INFO if not info.get(k) and getattr(check, k)}
    return [f for f in missing if f not in done], {**info, **filled}, done


def merged_into(pk: int | str = "") -> str:
    """The mark a reply's status reason carries once merged into submission *pk* (without
    *pk*: its start, common to all)."""
    return f"(reply merged into #{pk})" if pk != "" else "(reply merged into #"


def adds_nothing(pk: int | str) -> str:
    """The status reason of a reply to the receipt of submission *pk* that added nothing."""
    return f"回复回执，无新增内容（#{pk}） {_NOTHING}"


def a_reply(reason: str | None) -> bool:
    """Whether a mail's status reason says it answered a receipt (merged, or adding nothing)."""
    return merged_into() in (reason or "") or _NOTHING in (reason or "")


_NOTHING = "(reply adding nothing)"
REPLY_ADDED = "files.reply"  # evidence naming what replies added (sha256s and URLs in "added")


def reply_added(evidence) -> set[str]:
    """The files (sha256) and links (URL) replies to its receipt added to a submission."""
    return {x for e in evidence or () if e.get("rule") == REPLY_ADDED for x in e.get("added", ())}


def resent_of(pk: int | str = "") -> str:
    """The mark a mail's status reason carries when it repeats submission *pk* (without
    *pk*: its start, common to all)."""
    return f"(resent: same as #{pk})" if pk != "" else "(resent: same as #"
