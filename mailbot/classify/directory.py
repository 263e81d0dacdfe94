"""The school directory: ``rules/schools.toml`` (and ``rules/roster.toml``, and the
Traditional-to-Simplified table ``rules/traditional.toml``) read once and checked, with
the lookups :mod:`.school` matches mail against."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import read_toml
from ..errors import ConfigError
from ..settings import BUNDLED_RULES

FIELDS = {"name", "aliases", "former_names", "domains", "district", "district_guess", "city",
          "addresses", "note"}
_CJK = re.compile(r"[\u3400-\u9fff]")


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
    own = dict(schools)  # before the roster: what schools.toml alone says
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
    except DirectoryError as e:  # a name, domain or address twice...: say in which file
        in_own = set(e.problems) if not roster else _problems(own, public, leads, simplified)
        raise DirectoryError([f"{path if p in in_own else roster}: {p}"
                              for p in e.problems]) from None


def _problems(schools: dict[str, School], public, leads, simplified) -> set[str]:
    """What the directory of *schools* alone would be refused for."""
    try:
        Directory(tuple(schools.values()), public, leads, simplified)
    except DirectoryError as e:
        return set(e.problems)
    return set()
