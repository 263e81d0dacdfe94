"""Which school sent a message, and why we think so; pure.

The school data is rule data (``rules/schools.toml``, optionally extended by
``rules/roster.toml``), read once by :func:`load_directory`; text is folded from
Traditional to Simplified characters (``rules/traditional.toml``) before names are sought.
:func:`identify_school` tries, strongest first: (1) a confirmed sender
address, (2) the sender's domain or a subdomain of it (never a public mail
provider), (3) a school name, alias or former name written in the signature,
subject, attachment filenames, display name, then the body (and, last, a
school's domain label in a public-mail user name, e.g. ``cdut_houqin``), and
(4) forwarded mail, whose original sender's school wins over a forwarding
district lead school.  Rules (1)-(2) are skipped when the receiving server's
Authentication-Results say DMARC, SPF or DKIM failed for the sender's domain
(a forged From; noted as a ``school.spoofed`` conflict).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..config import read_toml
from ..errors import ConfigError
from ..parse import ParsedMessage
from ..settings import BUNDLED_RULES
from .evidence import Evidence
from .forwards import REPLY, split_forward

MAX_DEPTH = 5          # nested forwards followed
SIGNATURE_LINES = 6    # last non-empty lines of the body taken as the signature
FIELDS = {"name", "aliases", "former_names", "domains", "district", "district_guess", "city",
          "addresses", "note"}
_CJK = re.compile(r"[\u3400-\u9fff]")
_JOINERS = set("与和及同、赴到至在由为向对给致是")  # may stand right before a short alias
_VISIT = ("前往", "参观", "走进", "来到", "走访", "考察", "赴", "到", "去")
_VENUE = ("博物馆", "校史馆", "档案馆", "美术馆", "艺术馆", "展览馆", "纪念馆", "陈列馆")

class DirectoryError(ConfigError):
    """The school directory is invalid; ``problems`` lists every problem, in Chinese."""


@dataclass(frozen=True)
class School:
    """One institution of ``rules/schools.toml``: official name, short names,
    former names, mail domains (lower-case), district ("" = none), and
    confirmed sender addresses (lower-case)."""

    name: str
    aliases: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    district: str = ""
    addresses: tuple[str, ...] = ()


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def _suffixes(domain: str) -> set[str]:
    labels = domain.lower().strip(".").split(".")
    return {".".join(labels[i:]) for i in range(len(labels) - 1)}


@dataclass(frozen=True)
class Directory:
    """All schools plus indexes built once; ``leads`` maps district → lead school.
    Raises :class:`DirectoryError` when a name/alias/former name, domain or
    address belongs to two schools, a domain is public, a district is unknown,
    or a lead school is missing or outside its district."""

    schools: tuple[School, ...]
    public_domains: frozenset[str]
    leads: Mapping[str, str] = field(default_factory=dict)
    simplified: Mapping[int, str] = field(default_factory=dict)  # str.translate: 學 → 学
    by_name: dict[str, School] = field(init=False, repr=False, compare=False)  # NFKC names
    by_domain: dict[str, School] = field(init=False, repr=False, compare=False)
    by_address: dict[str, School] = field(init=False, repr=False, compare=False)
    by_label: dict[str, School] = field(init=False, repr=False, compare=False)
    _first: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        idx: dict[str, dict[str, School]] = {"名称": {}, "域名": {}, "地址": {}}
        problems = []
        for s in self.schools:
            if s.district and s.district not in self.leads:
                problems.append(f"{s.name}：片区“{s.district}”不存在（应为 {'、'.join(self.leads)}）")
            keys = [("名称", _norm(n).strip()) for n in (s.name, *s.aliases, *s.former_names)]
            keys += [("域名", d.lower()) for d in s.domains]
            keys += [("地址", a.lower()) for a in s.addresses]
            for kind, key in keys:
                if idx[kind].setdefault(key, s).name != s.name:
                    problems.append(f"{kind}“{key}”同时属于 {idx[kind][key].name} 和 {s.name}")
                if kind == "域名" and _suffixes(key) & self.public_domains:
                    problems.append(f"{s.name}：公共邮箱域名“{key}”不能作为学校域名")
        for district, lead in self.leads.items():
            if getattr(idx["名称"].get(lead), "district", None) != district:
                problems.append(f"片区“{district}”的组长单位“{lead}”不在名录中，或其 district 不是该片区")
        if problems:
            raise DirectoryError(problems)
        labels = Counter(d.split(".")[0] for d in idx["域名"])
        unique = {d.split(".")[0]: s for d, s in idx["域名"].items() if labels[d.split(".")[0]] == 1}
        first: dict[str, list[str]] = {}
        for name in sorted(idx["名称"], key=len, reverse=True):
            first.setdefault(name[:1], []).append(name)
        for attr, value in (("by_name", idx["名称"]), ("by_domain", idx["域名"]),
                            ("by_address", idx["地址"]), ("_first", first),
                            ("by_label", {k: s for k, s in unique.items() if len(k) >= 4})):
            object.__setattr__(self, attr, value)

    def fold(self, text: str) -> str:
        """*text* NFKC-normalised, Traditional characters of the table made Simplified
        (one for one: positions stay)."""
        return _norm(text).translate(self.simplified)

    @property
    def districts(self) -> tuple[str, ...]:
        return tuple(self.leads)

    def is_lead(self, school: str | None) -> bool:
        s = self.by_name.get(school or "")
        return bool(s and self.leads.get(s.district) == s.name)


def _strings(t: dict, key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = t.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}：{key} 应为字符串列表，如 {key} = [\"...\"]")
        return ()
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def load_simplified(path: Path, problems: list[str]) -> dict[int, str]:
    """The ``pairs`` of ``traditional.toml`` ("學学 師师 ...") as a ``str.translate`` table;
    a bad pair or a character given twice is added to *problems*."""
    table: dict[int, str] = {}
    pairs = read_toml(path).get("pairs", "")
    for pair in pairs.split() if isinstance(pairs, str) else [None]:
        if not pair or len(pair) != 2 or not all(map(_CJK.match, pair)) or pair[0] == pair[1]:
            problems.append(f"{path}：pairs 中“{pair or ''}”应为两个不同的汉字，繁体在前、简体在后"
                            "（pairs = \"\"\"學学 師师\"\"\"）")
        elif table.setdefault(ord(pair[0]), pair[1]) != pair[1]:
            problems.append(f"{path}：繁体字“{pair[0]}”出现了两次")
    return table


def load_directory(path: Path, roster: Path | None = None) -> Directory:
    """Read ``schools.toml`` and apply ``roster.toml`` (per [[entry]]: ``school``;
    ``district`` replaces the school's when not empty; ``addresses`` extend), with the
    ``traditional.toml`` beside it (the shipped one when a rules folder has none).
    Raises :class:`DirectoryError` listing every problem (or OSError)."""
    data = read_toml(path)
    extra = read_toml(roster) if roster else {}
    problems: list[str] = []
    variants = path.with_name("traditional.toml")
    simplified = load_simplified(variants if variants.is_file()
                                 else BUNDLED_RULES / "traditional.toml", problems)
    schools: dict[str, School] = {}
    for i, t in enumerate(data.get("school", []), 1):
        name = t["name"].strip() if isinstance(t.get("name"), str) else ""
        where = f"{path}: 第 {i} 个 [[school]]（{name or '缺少 name'}）"
        unknown = "、".join(sorted(set(t) - FIELDS))
        problems += [f"{where}：{why}" for why, bad in (
            ("缺少 name", not name), ("重名", name in schools), (f"未知字段 {unknown}", unknown)) if bad]
        lists = [_strings(t, k, where, problems) for k in ("aliases", "former_names", "domains",
                                                           "addresses")]
        schools[name] = School(name, lists[0], lists[1], tuple(d.lower() for d in lists[2]),
                               str(t.get("district", "")).strip(),
                               tuple(a.lower() for a in lists[3]))
    if roster:
        from .roster import apply_roster  # roster.py owns the roster.toml format
        problems += [f"{roster}: {p}" for p in apply_roster(schools, extra)]
    if problems:
        raise DirectoryError(problems)
    leads = {str(t.get("name", "")): str(t.get("lead_school", ""))
             for t in data.get("district", [])}
    public = frozenset(d.lower() for d in data.get("public_domains", []))
    try:
        return Directory(tuple(schools.values()), public, leads, simplified)
    except DirectoryError as e:  # a name, domain or address twice...: say in which files
        files = f"{path}" + (f"（及 {roster}）" if roster else "")
        raise DirectoryError([f"{files}: {p}" for p in e.problems]) from None


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
    if name.isascii():
        return not (prev and prev.isascii() and (prev.isalnum() or prev in "@._-/")) and \
            not (nxt and nxt.isascii() and (nxt.isalnum() or nxt in "@_-"))
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


def _spoof_evidence(msg: ParsedMessage, d: Directory, known: Mapping[str, str]) -> Evidence | None:
    """The conflict to show when the sender's address or domain would name a school
    but the receiving server says the From failed authentication."""
    sender = (msg.sender or "").lower()
    failed = auth_failures(msg) if sender else []
    domain = sender.rpartition("@")[2]
    if not failed:
        return None
    public = bool(_suffixes(domain) & d.public_domains)
    hit = known.get(sender) or getattr(d.by_address.get(sender), "name", None) or next(
        (d.by_domain[x].name for x in _suffixes(domain) if not public and x in d.by_domain), None)
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
              depth: int) -> tuple[list[_Cand], str | None]:
    """Candidates, the winner first, and a district overriding the directory's (or None)."""
    own, inline = split_forward(msg.text)
    cands = _own_candidates(msg, own, d, known)
    outer = cands[0][0] if cands else None
    for inner in (*msg.forwarded, *([inline] if inline else ())) if depth < MAX_DEPTH else ():
        sub, district = _identify(inner, d, known, depth + 1)
        if sub:
            break
    else:
        return cands, None
    school, who = sub[0][0], inner.sender or inner.sender_name or "（地址不详）"
    ev = Evidence("school.forwarded", f"转发邮件的原发件人 {who} → {school}")
    quoted = inner is inline and REPLY.match(_norm(msg.subject))  # a reply's quote, no forward
    if quoted and outer is None:  # the notice or a leader's request replied to: not the sender's
        return [], None
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


def identify_school(msg: ParsedMessage, directory: Directory,
                    known_senders: Mapping[str, str] = {},
                    forwarded_by: str | None = None) -> SchoolMatch:
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
    none of their own, as with a single forward.
    """
    cands, district = _identify(msg, directory, known_senders, 0)
    if cands and forwarded_by and district is None and directory.is_lead(forwarded_by) and \
            not getattr(directory.by_name.get(cands[0][0]), "district", None):
        district = directory.by_name[forwarded_by].district
        cands = [*cands, (cands[0][0], Evidence(
            "school.district", f"由{district}组长单位 {forwarded_by} 汇总转来 → {district}"),
            "district")]
    spoof = _spoof_evidence(msg, directory, known_senders)
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
