"""Run every classification rule over one parsed message; pure.

:func:`load_rulebook` reads the rule data once (``rules/*.toml``);
:func:`classify` returns a :class:`Classification` whose every decision
carries its evidence, so ``mailbot explain`` can show why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..config import Campaign
from ..htmltext import html_to_text
from ..parse import Attachment, ParsedMessage
from .auto import auto_reason
from .credits import Credit, credits
from .danger import DangerRules, dangerous_attachments, load_danger_rules
from .directory import Directory, load_directory
from .documents import read_document
from .evidence import Evidence
from .forwards import is_bundle, own_content
from .kinds import (
    KIND_ZH,
    KindRules,
    detect_kinds,
    load_kind_rules,
    may_hold_text,
    sender_text,
    unquoted,
)
from .links import Link, LinkRules, find_links, load_link_rules, video_evidence
from .phase import judged_time, lateness
from .plan import (
    PLAN_INFO,
    PlanCheck,
    check_plan,
    damaged_evidence,
    signed_contact,
)
from .school import SchoolMatch, identify_school


@dataclass(frozen=True)
class RuleBook:
    """All rule data, loaded once from the rules folder."""

    directory: Directory
    links: LinkRules
    kinds: KindRules
    danger: DangerRules


def load_rulebook(folder: Path, roster: Path | None = None) -> RuleBook:
    """The rules in *folder*, with the roster at *roster* (default *folder*/roster.toml)
    applied when that file exists."""
    roster = roster or folder / "roster.toml"
    return RuleBook(directory=load_directory(folder / "schools.toml",
                                             roster if roster.is_file() else None),
                    links=load_link_rules(folder / "links.toml"),
                    kinds=load_kind_rules(folder / "kinds.toml"),
                    danger=load_danger_rules(folder / "danger.toml"))


@dataclass(frozen=True)
class Classification:
    status: str
    reason: str
    school: str | None
    district: str | None
    kinds: tuple[str, ...]
    late: bool
    links: tuple[Link, ...]
    plan: PlanCheck | None
    evidence: tuple[tuple[str, Evidence], ...]  # (field, evidence), in decision order
    credits: tuple[Credit, ...] = ()  # a district leader's files of its schools


def _texts(msg: ParsedMessage, rules: KindRules) -> list[str]:
    """The sender's own words (quotes of the notice left out) and the text of
    every document, forwarded mail included."""
    return _read(msg, rules)[0]


class _Documents:
    """:func:`~.documents.read_document` once per attachment in one classification (a
    plan's PDF is read for its text, then asked whether it was damaged)."""

    def __init__(self) -> None:
        self._read: dict[int, tuple[Attachment, tuple[str, bool]]] = {}  # by id, kept alive

    def __call__(self, att: Attachment) -> tuple[str, bool]:
        if id(att) not in self._read:
            self._read[id(att)] = (att, read_document(att))
        return self._read[id(att)][1]


def _read(msg: ParsedMessage, rules: KindRules, read: Callable[[Attachment], tuple[str, bool]]
          = read_document) -> tuple[list[str], bool]:
    """:func:`_texts`, and whether an attachment that may hold the plan gave no text
    (a scan, a photo, an archive, a spreadsheet: :func:`~.kinds.may_hold_text`)."""
    texts, silent = [sender_text(msg, rules)], False
    for att in msg.attachments:
        texts.append(text := read(att)[0])
        silent = silent or not text and may_hold_text(att, rules)
    for inner in msg.forwarded:
        more, quiet = _read(inner, rules, read)
        texts, silent = texts + more, silent or quiet
    return [t for t in texts if t], silent


def plan_fields(msg: ParsedMessage, rules: RuleBook, year: int) -> PlanCheck:
    """The plan template check of *msg* alone: its sender's own words and documents
    (a reply to a receipt adding what the plan lacked)."""
    return check_plan(_texts(msg, rules.kinds), year, rules.kinds.plan)


def _all_hrefs(msg: ParsedMessage, quote: KindRules | None = None) -> tuple[str, list[str]]:
    """The text and anchors links are read from: the mail's own and its forwarded mails';
    with *quote*, not the mail a reply quotes (a leader's reminder citing another school's
    article is not the replier's video)."""
    text, hrefs = msg.text, list(msg.hrefs)
    if quote is not None and (own := unquoted(text, msg.subject, quote)) != text:
        text = own
        if hrefs and msg.html:  # an anchor counts where its address shows in the own part
            shown = unquoted(html_to_text(msg.html, inline_links=True)[0], msg.subject, quote)
            hrefs = [h for h in hrefs if h in shown or h in own]
    for inner in msg.forwarded:
        t, h = _all_hrefs(inner)
        text += "\n" + t
        hrefs += h
    return text, hrefs


def _links(text: str, hrefs, rules: LinkRules, sent: date | None = None) -> tuple[Link, ...]:
    """The deliverable links of *text* and *hrefs* (*sent*: the day expiries count from), one
    of each address (an anchor's href may end in a "/" the text's copy has not)."""
    found = {}
    for ln in find_links(text, hrefs, rules, sent):
        if _deliverable(ln):
            found.setdefault(ln.url.rstrip("/"), ln)
    return tuple(found.values())


def _credited(c: Credit) -> str:
    """"附件 a.docx、b.jpg 的名称" / "链接 https://… 所在行" / both, for the evidence."""
    said = [f"附件 {'、'.join(c.files)} 的名称"] if c.files else []
    return "，".join(said + ([f"链接 {'、'.join(c.links)} 所在行"] if c.links else []))


def _deliverable(link: Link) -> bool:
    """A site's bare homepage (a signature's) is no deliverable; everything else is."""
    return link.platform != "other" or urlsplit(link.url).path not in ("", "/")


def _unreadable(plan: PlanCheck, texts: list[str], silent: bool, rules: KindRules) -> bool:
    """A plan that could not be checked (not "all six missing"): fewer template items than
    a plan has, and an attachment that may hold it gave no text (*silent*: a scan, an
    archive...; a signature's "联系人" is no plan), or no item at all and no text long
    enough to have held one (a photographed plan)."""
    return len(plan.found) < rules.min_plan_fields and (
        silent or not plan.found and max(map(len, texts), default=0) < rules.long_body_chars)


def _sender_only(msg: ParsedMessage) -> ParsedMessage:
    """The message reduced to its sender: a robot's text names other people's schools."""
    return replace(msg, subject="", text="", html="", hrefs=(), attachments=(), forwarded=())


def _lead(msg: ParsedMessage, rules: RuleBook, known: Mapping[str, str],
          match: SchoolMatch) -> str | None:
    """The district lead school that sent *msg*: the school found, or — when a school's mail
    it forwarded as an attachment won — the sender's own (by its address), when either leads
    a district.  (Forwarded inline, the school's own words are in the text, its files in the
    mail's: all of it stays that school's.)"""
    d = rules.directory
    if d.is_lead(match.school) or not msg.forwarded or not match.evidence or \
            match.evidence[0].rule != "school.forwarded":
        return match.school
    sender = identify_school(_sender_only(msg), d, known).school
    return sender if d.is_lead(sender) else match.school


def _credits(msg: ParsedMessage, rules: RuleBook, campaign: Campaign, received_at: datetime,
             school: str | None, read: Callable[[Attachment], tuple[str, bool]],
             keep: str | None = None) -> tuple[tuple[Credit, ...], ParsedMessage, list]:
    """A district leader's (*school*'s) files of its schools (:mod:`.credits`) but *keep*'s
    (the school whose mail it forwarded), each judged alone as the whole mail is (kinds, plan
    check, lateness), *msg* without them, and the evidence."""
    year = campaign.year or received_at.year

    def judge(view: ParsedMessage) -> dict:
        texts, silent = _read(view, rules.kinds, read)
        check = check_plan(texts, year, rules.kinds.plan)
        video = video_evidence(_links(view.text, (), rules.links))
        kinds = detect_kinds(view, rules.kinds, video, len(check.found))[0]
        late = lateness(kinds, judged_time(msg.date, received_at), campaign)[0]
        if "plan" not in kinds:
            return {"kinds": kinds, "late": late}
        return {"kinds": kinds, "late": late, "plan_info": {k: getattr(check, k) for k in PLAN_INFO},
                "plan_missing": () if _unreadable(check, texts, silent, rules.kinds) else check.missing}

    credited, rest = credits(msg, rules.directory, school, judge,
                             lambda line: [ln.url for ln in _links(line, (), rules.links)], keep)
    evidence = [("credits", Evidence("credit", f"{_credited(c)}指明是{c.school}的，组长单位代交 → "
                 f"记入{c.school}（{'、'.join(KIND_ZH[k] for k in c.kinds) or '类别未识别'}）"
                 + ("，逾期" if c.late else ""))) for c in credited]
    return credited, rest, evidence


def classify(msg: ParsedMessage, rules: RuleBook, campaign: Campaign, received_at: datetime,
             known_senders: Mapping[str, str] = {},
             own_addresses: frozenset[str] = frozenset(),
             trusted: bool = False, forwarded_by: str | None = None) -> Classification:
    """Decide status, school, district, kinds, lateness, links and plan completeness.

    *trusted* (the secretariat released the mail from quarantine) skips the
    dangerous-attachment rules.  A bundle is judged on its own content
    (:func:`~.forwards.own_content`): the mail forwarded in it are judged one by one,
    each with *forwarded_by*, the school that passed it on (see ``identify_school``).

    Machine-generated mail is ``ignored`` and dangerous mail ``quarantined``:
    neither is a submission, so both get no kinds, links or plan check.  A
    robot's school comes from its sender address alone (its text quotes others).
    """
    bundle = len(msg.forwarded) if is_bundle(msg) else 0
    msg = own_content(msg)
    auto = auto_reason(msg, own_addresses)
    danger = () if trusted else dangerous_attachments(msg, rules.danger)
    if auto or danger:
        match = identify_school(_sender_only(msg) if auto else msg, rules.directory,
                                known_senders, quote=rules.kinds)
        evidence = [("school", e) for e in match.evidence]
        if auto:
            status, reason, why = "ignored", auto, (Evidence("status.auto", auto),)
        else:
            status, reason, why = "quarantined", "；".join(e.detail for e in danger), danger
        evidence += [("status", e) for e in why]
        return Classification(status=status, reason=reason, school=match.school,
                              district=match.district or None, kinds=(), late=False, links=(),
                              plan=None, evidence=tuple(evidence))
    evidence: list[tuple[str, Evidence]] = [("parts", Evidence(
        "bundle", f"汇总邮件：转来 {bundle} 封邮件，逐封登记为各自学校的材料"))] if bundle else []
    year = campaign.year or received_at.year
    match = identify_school(msg, rules.directory, known_senders, forwarded_by, rules.kinds)
    links = _links(*_all_hrefs(msg, rules.kinds), rules.links,  # all kept; a school's are shown as its
                   judged_time(msg.date, received_at).date())
    read = _Documents()
    credited, msg, said = _credits(msg, rules, campaign, received_at,
                                   _lead(msg, rules, known_senders, match), read, match.school)
    evidence += said
    given = {url.rstrip("/") for c in credited for url in c.links}  # an anchor's "…/" too
    video = video_evidence(tuple(ln for ln in links if ln.url.rstrip("/") not in given))
    texts, silent = _read(msg, rules.kinds, read)
    plan = check_plan(texts, year, rules.kinds.plan)
    kinds, kind_ev = detect_kinds(msg, rules.kinds, video, len(plan.found), texts)
    evidence += [("kinds", e) for e in kind_ev]
    if "plan" in kinds and not _unreadable(plan, texts, silent, rules.kinds):
        plan, signed = signed_contact(plan, sender_text(msg, rules.kinds))
        evidence += [("plan", signed)] if signed else []
    elif "plan" in kinds:
        plan = replace(plan, missing=())  # a photo or a scan: nothing to check, not all missing
        damaged = [("plan", e) for e in damaged_evidence(msg.attachments, read)]  # to be sent again
        evidence += damaged or [("plan", Evidence(
            "plan.unreadable", "方案在读不到文字的附件里（图片、扫描件、压缩包、表格等），"
                               "模板六项未能核对，请人工查看"))]
    evidence += [("school", e) for e in match.evidence]
    evidence += [("school.conflict", e) for e in match.conflicts]
    late, late_ev = lateness(kinds, judged_time(msg.date, received_at), campaign)
    evidence += [("late", e) for e in late_ev]

    status, reason = ("accepted", "") if match.school else (
        "needs_school", "未能识别学校 (school not recognised)")
    return Classification(status=status, reason=reason, school=match.school,
                          district=match.district or None, kinds=kinds, late=late,
                          links=links, plan=plan if "plan" in kinds else None,
                          evidence=tuple(evidence), credits=credited)
