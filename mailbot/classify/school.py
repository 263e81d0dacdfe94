"""Which school sent a message, and why we think so; pure.

The school data is rule data (``rules/schools.toml``, optionally extended by
``rules/roster.toml``), read once by :func:`~.directory.load_directory`; text is folded from
Traditional to Simplified characters (``rules/traditional.toml``) before names are sought.
:func:`identify_school` tries, strongest first: (1) a confirmed sender
address, (2) the sender's domain or a subdomain of it (never a public mail
provider), (3) a school name, alias or former name written in the signature,
subject, attachment filenames, display name, then the body (and, last, a
school's domain label in a public-mail user name, e.g. ``cdut_houqin``), and
(4) forwarded mail, whose original sender's school wins over a forwarding
district lead school (not a forwarded notice naming a school per district, see
:func:`_a_list`).  Rules (1)-(2) are skipped when the receiving server's
Authentication-Results say DMARC, SPF or DKIM failed for the sender's domain
(a forged From; noted as a ``school.spoofed`` conflict).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ..parse import ParsedMessage
from .directory import _CJK, Directory, School, _norm, _suffixes
from .evidence import Evidence
from .forwards import REPLY, is_bundle, split_forward
from .kinds import KindRules, unquoted

MAX_DEPTH = 5          # nested forwards followed
LIST_SCHOOLS = 3       # schools a forwarded notice names (one school's mail names one or two)
SIGNATURE_LINES = 6    # last non-empty lines of the body taken as the signature
_JOINERS = set("与和及同、赴到至在由为向对给致是")  # may stand right before a short alias
_VISIT = ("前往", "参观", "走进", "来到", "走访", "考察", "赴", "到", "去")
_VENUE = ("博物馆", "校史馆", "档案馆", "美术馆", "艺术馆", "展览馆", "纪念馆", "陈列馆")


@dataclass(frozen=True)
class SchoolMatch:
    """The school (official name) or None; its district ("" when it has none);
    the evidence that decided, strongest first; weaker evidence pointing elsewhere."""

    school: str | None
    district: str | None
    evidence: tuple[Evidence, ...]
    conflicts: tuple[Evidence, ...]


NO_MATCH = SchoolMatch(None, None, (), ())


class _Mention(NamedTuple):
    school: School
    name: str
    start: int
    visit: bool   # after 赴/到/参观..., or before 博物馆/校史馆...: a place, not the writer


def _standalone(text: str, i: int, name: str) -> bool:
    """A name counts unless glued into a longer word (rules: schools.toml header)."""
    prev, nxt = text[i - 1:i], text[i + len(name):i + len(name) + 1]
    if name.isascii():  # "SWPU_新闻稿.docx", "新闻稿-CUIT": a "_" or "-" beside Chinese text
        before, after = text[i - 2:i - 1], text[i + len(name) + 1:i + len(name) + 2]
        glued_before = prev and prev.isascii() and (prev.isalnum() or prev in "@._-/") and \
            not (prev in "_-" and before and not before.isascii())
        glued_after = nxt and nxt.isascii() and (nxt.isalnum() or nxt in "@_-") and \
            not (nxt in "_-" and after and not after.isascii())
        return not glued_before and not glued_after
    if name.endswith("大学") and nxt in ("生", "城"):   # 四川大学生运动会, 成都大学城
        return False
    return len(name) > 3 or not _CJK.match(prev) or prev in _JOINERS


def _mentions(text: str, d: Directory) -> list[_Mention]:
    """Leftmost-longest scan: 四川大学锦江学院 hides the 四川大学 inside it."""
    text, out, i = d.fold(text), [], 0
    while i < len(text):
        for name in d._first.get(text[i], ()):
            if text.startswith(name, i) and _standalone(text, i, name):
                before = text[max(0, i - 4):i].rstrip().removesuffix("了")
                venue = text[i + len(name):].lstrip().removeprefix("的").startswith(_VENUE)
                out.append(_Mention(d.by_name[name], name, i, before.endswith(_VISIT) or venue))
                i += len(name)
                break
        else:
            i += 1
    return out


def _ranked(text: str, d: Directory) -> list[tuple[School, str, int]]:
    """(school, name as written, count) named not as visit targets: most first, then earliest."""
    found = [m for m in _mentions(text, d) if not m.visit]
    count = Counter(m.school.name for m in found)
    first = {m.school.name: m for m in reversed(found)}
    return [(m.school, m.name, count[n])
            for n, m in sorted(first.items(), key=lambda kv: (-count[kv[0]], kv[1].start))]


def mentioned(text: str, directory: Directory) -> list[tuple[School, str, bool]]:
    """Each school *text* names, leftmost first: (school, the name as written, whether
    named as a place visited, e.g. "参观宜宾学院")."""
    return [(m.school, m.name, m.visit) for m in _mentions(text, directory)]


def find_school_by_name(text: str, directory: Directory) -> School | None:
    """The school *text* names: exactly (name, alias, former name), else the one
    mentioned most (e.g. "学校：成都大学"), visit targets ignored; else None."""
    ranked = _ranked(text, directory)
    return directory.by_name.get(directory.fold(text).strip()) or (ranked[0][0] if ranked else None)


_Cand = tuple[str, Evidence, str]   # (school name, evidence, source tag)
_SENTENCE_END = tuple("。！？!?；;，,：:")


def _signature(text: str) -> str:
    """The signature: the trailing run of short lines (at most SIGNATURE_LINES) that
    are not sentences.  "感谢西南民族大学的热情接待！" above it is text, not signature."""
    lines = [line.strip() for line in (text or "").split("\n") if line.strip()]
    block: list[str] = []
    for line in reversed(lines):
        if len(block) == SIGNATURE_LINES or len(line) > 30 or line.endswith(_SENTENCE_END):
            break
        block.insert(0, line)
    return "\n".join(block)


_AUTH_STMT = re.compile(r"\s*(dmarc|spf|dkim)\s*=\s*([a-z]+)", re.IGNORECASE)
_AUTH_PROP = re.compile(r"(?:header\.from|header\.d|header\.i|smtp\.mailfrom|smtp\.mail)"
                        r"\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)
_AUTH_NAMES = {"dmarc": "DMARC", "spf": "SPF", "dkim": "DKIM"}


def auth_failures(msg: ParsedMessage) -> list[str]:
    """The checks ("DMARC", "SPF", "DKIM") that the receiving server's
    Authentication-Results (the topmost one) says failed for the sender's domain;
    [] when DMARC passed for it (the From is then authenticated whatever else says).
    A DKIM result counts only when its header.d/header.i names that domain."""
    domain = (msg.sender or "").rpartition("@")[2].lower()
    value = msg.headers.get("authentication-results", "")
    while (stripped := re.sub(r"\([^()]*\)", " ", value)) != value:  # (comments)
        value = stripped
    failed: list[str] = []
    for stmt in value.split(";")[1:] if domain else ():  # item 0 is the server's name
        if not (m := _AUTH_STMT.match(stmt)):
            continue
        method, result = m[1].lower(), m[2].lower()
        props = [p.rpartition("@")[2].lower().strip(".") for p in _AUTH_PROP.findall(stmt)]
        if not props and method == "dkim" or props and not any(
                p == domain or domain.endswith("." + p) or p.endswith("." + domain)
                for p in props):
            continue  # about another domain (a mailing list's signature...)
        if method == "dmarc" and result == "pass":
            return []
        if result == "fail" and _AUTH_NAMES[method] not in failed:
            failed.append(_AUTH_NAMES[method])
    return failed


def _school_of_address(address: str, d: Directory, known: Mapping[str, str]) -> str | None:
    """The school an address names by itself: confirmed, registered, or by its domain (never
    a public one such as qq.com); None otherwise."""
    address = address.lower()
    domain = address.rpartition("@")[2]
    public = bool(_suffixes(domain) & d.public_domains)
    return known.get(address) or getattr(d.by_address.get(address), "name", None) or next(
        (d.by_domain[x].name for x in _suffixes(domain) if not public and x in d.by_domain), None)


def _spoof_evidence(msg: ParsedMessage, d: Directory, known: Mapping[str, str]) -> Evidence | None:
    """The conflict to show when the sender's address or domain would name a school
    but the receiving server says the From failed authentication."""
    sender = (msg.sender or "").lower()
    failed = auth_failures(msg) if sender else []
    domain = sender.rpartition("@")[2]
    if not failed:
        return None
    hit = _school_of_address(sender, d, known)
    if hit is None:
        return None
    return Evidence("school.spoofed", f"发件人域名 {domain} 的 {'、'.join(failed)} 验证失败，"
                                      f"未采信（否则为 {hit}）")


def _own_candidates(msg: ParsedMessage, own: str, d: Directory,
                    known: Mapping[str, str]) -> list[_Cand]:
    """Every (school, evidence, source) of rules 1-3 for *msg* itself, strongest first.
    A From that failed authentication (see :func:`auth_failures`) is forged: nothing
    is taken from its address, domain or user name."""
    out, sender = [], (msg.sender or "").lower()
    forged = bool(sender) and bool(auth_failures(msg))
    if sender and not forged and (name := known.get(sender)):
        name = getattr(d.by_name.get(_norm(name).strip()), "name", name)
        out.append((name, Evidence("school.address", f"发件人 {sender} 曾确认为 {name}"), "address"))
    if not forged and (s := d.by_address.get(sender)):
        out.append((s.name, Evidence("school.address", f"发件人 {sender} 登记在名录中 → {s.name}"),
                    "address"))
    domain = sender.rpartition("@")[2]
    public = bool(_suffixes(domain) & d.public_domains)
    for suffix in sorted(_suffixes(domain), key=len, reverse=True) if not (public or forged) \
            else ():
        if s := d.by_domain.get(suffix):
            via = f"（属 {suffix}）" if suffix != domain else ""
            out.append((s.name, Evidence("school.domain", f"发件人域名 {domain}{via} → {s.name}"),
                        "domain"))
            break
    sources = [("署名", _signature(own), "signature"),
               ("主题", msg.subject, "subject")]
    sources += [(f"附件名“{a.filename}”", a.filename, "filename") for a in msg.attachments]
    sources += [("发件人名称", msg.sender_name, "display"), ("正文", own, "body")]
    for where, text, tag in sources:
        for s, name, n in _ranked(text or "", d):
            times = f" {n} 次" if n > 1 else ""
            out.append((s.name, Evidence("school.name", f"{where}中出现“{name}”{times} → {s.name}"),
                        tag))
    for token in re.split(r"[^a-z]+", sender.partition("@")[0]) if public and not forged else ():
        if s := d.by_label.get(token):
            out.append((s.name, Evidence("school.localpart",
                                         f"发件人 {sender} 的用户名含 {token} → {s.name}"), "local"))
    return out


def _identify(msg: ParsedMessage, d: Directory, known: Mapping[str, str],
              depth: int, quote: KindRules | None = None) -> tuple[list[_Cand], str | None]:
    """Candidates, the winner first, and a district overriding the directory's (or None)."""
    own, inline = split_forward(msg.text)
    own = unquoted(own, msg.subject, quote) if quote else own
    cands = _own_candidates(msg, own, d, known)
    outer = cands[0][0] if cands else None
    nameless = None  # a forwarded mail from someone else naming no school at all
    for inner in (*msg.forwarded, *([inline] if inline else ())) if depth < MAX_DEPTH else ():
        sub, district = _identify(inner, d, known, depth + 1, quote)
        if sub and not _a_list(sub):
            break
        if not sub and nameless is None and inner.sender and \
                _school_of_address(inner.sender, d, known) != outer:
            nameless = inner
    else:
        if d.is_lead(outer) and nameless is not None and not is_bundle(msg) and not (
                nameless is inline and REPLY.match(_norm(msg.subject))):
            return [(outer, Evidence("school.lead_forwarded", f"片区组长单位 {outer} 转发了 "
                                     f"{nameless.sender} 的邮件，原邮件未写明学校，不计为组长单位"
                                     "自己的材料 → 待确认"), "undecided")], None
        return cands, None
    school, who = sub[0][0], inner.sender or inner.sender_name or "（地址不详）"
    ev = Evidence("school.forwarded", f"转发邮件的原发件人 {who} → {school}")
    quoted = inner is inline and REPLY.match(_norm(msg.subject))  # a reply's quote, no forward
    if quoted and outer is None:  # the notice or a leader's request replied to: not the sender's
        return [], None
    if outer is None and d.is_lead(school):  # the leader's own staff, or one of its schools
        return [(school, Evidence("school.forwarded_lead", f"转发的是片区组长单位 {school} 的"
                                  f"邮件（{who}），发件人未写明自己的学校，可能是组长单位转给"
                                  "各校的通知 → 待确认"), "undecided")], None
    if outer is None:
        return [(school, ev, "forwarded"), *sub], district
    if outer == school or not d.is_lead(outer) or quoted:
        return [*cands, (school, ev, "forwarded"), *sub], None
    # a district lead school forwarding: the original school wins, and takes the
    # leader's district when it has none of its own
    ev = Evidence(ev.rule, f"{ev.detail}（由片区组长单位 {outer} 转发）")
    lead, found = d.by_name[outer], d.by_name.get(school)
    if district is None and not (found and found.district):
        district = lead.district
        sub = [*sub, (school, Evidence("school.district", f"由{district}组长单位 {outer} 转发 → "
                                                          f"{district}"), "district")]
    return [(school, ev, "forwarded"), *sub, *cands], district


def _a_list(cands: list[_Cand]) -> bool:
    """Whether a forwarded mail names LIST_SCHOOLS or more schools in its own words and
    none by its address: the association's notice (its contacts, one per district) or a
    leader's request, forwarded back with the school's material — not the school's mail."""
    return not any(tag in ("address", "domain", "local", "forwarded") for _, _, tag in cands) \
        and len({school for school, _, _ in cands}) >= LIST_SCHOOLS


def identify_school(msg: ParsedMessage, directory: Directory,
                    known_senders: Mapping[str, str] = {},
                    forwarded_by: str | None = None, quote: KindRules | None = None) -> SchoolMatch:
    """Decide which school *msg* comes from (order: see the module docstring).

    ``known_senders`` maps lower-cased confirmed addresses to school names.  A
    forward (message/rfc822 part, or an inline block, see :func:`split_forward`)
    is identified recursively; its school wins when the outer sender is a
    district lead school or names no school — but the quote in a "回复：" reply
    (the notice, a leader's request) never names the sender's school.  Evidence:
    the winner's strongest item per rule; conflicts: the strongest item per rule
    and other school.  Nothing found:
    ``SchoolMatch(None, None, (), ())``.  *forwarded_by* is the school that passed *msg*
    on in a bundle: a district lead school's district is its schools' when they have
    none of their own, as with a single forward; another school's is the school of a
    mail that names none (its own staff's, forwarded together).  *quote* (the kinds rules'
    quote markers) keeps a reply's quote from naming the sender's school.
    """
    cands, district = _identify(msg, directory, known_senders, 0, quote)
    if cands and forwarded_by and district is None and directory.is_lead(forwarded_by) and \
            not getattr(directory.by_name.get(cands[0][0]), "district", None):
        district = directory.by_name[forwarded_by].district
        cands = [*cands, (cands[0][0], Evidence(
            "school.district", f"由{district}组长单位 {forwarded_by} 汇总转来 → {district}"),
            "district")]
    if not cands and forwarded_by in directory.by_name and not directory.is_lead(forwarded_by):
        cands = [(forwarded_by, Evidence("school.forwarded_by", f"由 {forwarded_by} 汇总转来，"
                                         f"原邮件未写明学校 → {forwarded_by}"), "forwarded_by")]
    spoof = _spoof_evidence(msg, directory, known_senders)
    if cands and cands[0][2] == "undecided":
        return SchoolMatch(None, None, (), (cands[0][1],) + ((spoof,) if spoof else ()))
    if not cands:
        return SchoolMatch(None, None, (), (spoof,)) if spoof else NO_MATCH
    win, seen, evidence, conflicts = cands[0][0], set(), [], []
    for school, ev, _ in cands:
        key = ev.rule if school == win else (school, ev.rule)
        if key not in seen:
            seen.add(key)
            (evidence if school == win else conflicts).append(ev)
    found = directory.by_name.get(win)
    return SchoolMatch(win, district or (found.district if found else ""),
                       tuple(evidence), tuple(conflicts) + ((spoof,) if spoof else ()))
