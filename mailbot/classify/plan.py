"""Activity plans (活动方案): read a document's text, check the six template fields.

:func:`document_text` turns one attachment into text (best effort, never
raises); :func:`check_plan` finds which template fields carry real content
and pulls out the visit date, time, place, contact and phone;
:func:`damaged_evidence` names the documents that could not be opened.  The
field names, their accepted variants and the template's placeholder texts are
data (``[plan]`` in ``rules/kinds.toml``, read by :func:`plan_rules`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from ..parse import Attachment
from .documents import document_text, read_document  # noqa: F401  (document_text re-exported)
from .evidence import Evidence

FIELDS = ("活动背景", "活动组织", "活动时间", "活动地点", "活动流程", "活动联系人及电话")
TIME_FIELD, PLACE_FIELD, CONTACT_FIELD = FIELDS[2], FIELDS[3], FIELDS[5]
_CN = "一二三四五六七八九十"
# Possessive (*+ ++) where nothing can be given back, and a numeral run tried only from its
# start: the backtracking versions were cubic in a line of blanks, quadratic in a numeral run.
_NUM = (rf"(?:(?<![{_CN}])[{_CN}]++\s*+[、.]|\(\s*+[{_CN}\d]++\s*+\)|\d{{1,2}}\s*+[、.)](?!\d)"
        rf"|第[{_CN}]++[、,]?|[●•·▪■◆*-])")
_CHAPTER = rf"(?:(?<![{_CN}])[{_CN}]++\s*+[、.]|\(\s*+[{_CN}]++\s*+\)|第[{_CN}]++[、,]?)"
_STOP = re.compile(rf"\s*(?:[{_CN}]+\s*[、.]|注\s*[:：]|注意事项|备注|附件|附\s*:)")
_PUNCT = re.compile(r"[\W_]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_DATE_FULL = re.compile(r"(20\d{2})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})(?!\d)")
_DATE_MD = re.compile(r"(?<![\d.])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_TIME = re.compile(r"(上午|下午|晚上|中午|早上)?\s*(?<!\d)(\d{1,2})\s*(?::\s*(\d{2})|[点时]"
                   r"\s*(?:(\d{1,2})\s*分|(半))?)")
_MOBILE = re.compile(r"(?:(?<=\+86)|(?<=\+86[\s-])|(?<!\d))(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_SIGNATURE_LINES = 8  # the last lines of a mail that may be its signature
_NOT_SIGNATURE = ("请", "如有", "告知", "咨询", "秘书处", "组长", "片区", "协会")  # words of a sentence
_LAND = re.compile(r"(?<!\d)\(?(0[12]\d|0[3-9]\d{2})\)?[\s\-－—–]*(\d{3,4})[\s\-－—–]?(\d{4})(?!\d)")
# a landline: area code 028 / 0816, then 7–8 digits, whole or as "8541 2345", "8541-2345"


@dataclass(frozen=True)
class PlanRules:
    """Template fields (in report order), the labels that stand for each, and
    what counts as an unfilled placeholder.  Build with :func:`plan_rules`."""

    fields: tuple[str, ...]
    labels: Mapping[str, str]  # normalised label -> field (any numbering allowed)
    numbered_only: Mapping[str, str]  # short label -> field (only after "三、" etc.)
    multiline: frozenset[str]
    placeholders: tuple[str, ...]  # normalised (no spaces or punctuation, lower case)
    placeholder_marks: tuple[str, ...]
    line_re: re.Pattern = field(compare=False, repr=False)  # a label at the start of a line
    split_re: re.Pattern = field(compare=False, repr=False)  # a numbered label inside a line


class _Fold(dict):
    """``str.translate`` table: a character to its NFKC form when that is one
    character (full-width ASCII and punctuation, ideographic space, Kangxi
    radicals from PDFs), else itself; so folding keeps every position."""

    def __missing__(self, code: int) -> str:
        folded = unicodedata.normalize("NFKC", chr(code))
        self[code] = folded if len(folded) == 1 else chr(code)
        return self[code]


_FOLD = _Fold()


def _bare(text: str) -> str:
    """``text`` NFKC-folded, lower case, without spaces and punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


def plan_rules(table: Mapping) -> PlanRules:
    """Build :class:`PlanRules` from a ``[plan]`` TOML table (missing keys take
    the defaults).  Raises ValueError naming the bad key."""
    fields = table.get("fields", FIELDS)
    if not isinstance(fields, (list, tuple)) or not fields or not all(
            isinstance(f, str) and f.strip() for f in fields):
        raise ValueError("plan.fields: 应为非空的字符串列表 (must be a list of names)")
    labels: dict[str, str] = {}
    short: dict[str, str] = {}
    for key, target in (("variants", labels), ("numbered_only", short)):
        extra = table.get(key, DEFAULTS[key])
        if not isinstance(extra, Mapping) or not set(extra) <= set(fields) or not all(
                isinstance(v, list) for v in extra.values()):
            raise ValueError(f"plan.{key}: 只能为 fields 中的项列出写法 (lists for plan fields only)")
        for name in fields:
            for label in ([name] if key == "variants" else []) + list(extra.get(name, ())):
                label = unicodedata.normalize("NFKC", str(label)).strip().lower()
                if labels.get(label, short.get(label, name)) != name:
                    raise ValueError(f"plan.{key}: “{label}” 属于两项 (label used for two fields)")
                target[label] = name
    alt = "|".join(re.escape(x) for x in sorted(labels, key=len, reverse=True))
    alt_short = "|".join(re.escape(x) for x in sorted(short, key=len, reverse=True)) or "(?!)"
    line_re = re.compile(rf"\s*+(?:(?P<num>{_NUM})?\s*+[【\[]?\s*+(?P<full>{alt})|{_CHAPTER}"
                         rf"\s*+[【\[]?\s*+(?P<short>{alt_short}))\s*(?P<sep>[】\]]\s*:?|:|\t|\s+|$)",
                         re.IGNORECASE)
    split_re = re.compile(rf"(?<=[^\n])(?=(?:{_NUM}\s*+(?:{alt})|{_CHAPTER}\s*+(?:{alt_short}))"
                          r"\s*+:)", re.IGNORECASE)
    multiline, placeholders, marks = (table.get(k, DEFAULTS[k]) for k in
                                      ("multiline", "placeholders", "placeholder_marks"))
    return PlanRules(tuple(fields), labels, short, frozenset(multiline),
                     tuple(_bare(x) for x in placeholders), tuple(m.lower() for m in marks),
                     line_re, split_re)


DEFAULTS: dict = {  # the same data as [plan] in rules/kinds.toml (a test keeps them equal)
    "variants": dict(zip(FIELDS, (
        ["背景", "活动目的", "活动意义", "活動背景"],
        ["组织单位", "主办单位", "承办单位", "活动组织单位", "组织机构", "活動組織"],
        ["参观时间", "活动日期", "举办时间", "活動時間"], ["参观地点", "活动场所", "举办地点", "活動地點"],
        ["活动安排", "活动内容", "活动议程", "流程安排", "日程安排", "活動流程"],
        ["活动联系人及联系电话", "联系人及联系电话", "联系人及联系方式", "联系人及电话", "活动联系人",
         "联系人", "联系方式", "联系电话", "活動聯繫人及電話", "活動聯絡人及電話", "聯絡人", "聯繫人",
         "聯絡電話", "聯繫電話"]))),
    "numbered_only": {"活动组织": ["组织"], "活动时间": ["时间"], "活动地点": ["地点"],
                      "活动流程": ["流程", "议程"]},
    "multiline": ["活动背景", "活动流程"],
    "placeholders": ["根据本校博物馆（校史馆）特色，结合通知要求来介绍。", "xx 高校后勤党委（或党总支）",
                     "待定", "无", "略", "暂无", "/"],
    "placeholder_marks": ["xx", "××", "XX", "某某"],
}
DEFAULT_RULES = plan_rules({})


PLAN_INFO = ("visit_date", "visit_time", "place", "contact", "phone")  # kept as plan_info


@dataclass(frozen=True)
class PlanCheck:
    """Which template fields carry content, and what was read from them.

    ``visit_date`` is ISO ("2024-07-05") or ""; ``visit_time`` "14:30" or "";
    ``place`` one line; ``phone`` a mobile "13812345678" or landline
    "028-85401236" found in ``contact``, or ""."""

    found: tuple[str, ...]
    missing: tuple[str, ...]
    visit_date: str
    visit_time: str
    place: str
    contact: str
    phone: str


def _label(line: str, orig: str, rules: PlanRules) -> tuple[str, str, bool] | None:
    """(field, rest of the line, whether a value may follow on the next line)
    if folded ``line`` starts with a label; the rest is cut from ``orig``, the
    unfolded line.  "三、活动时间" without a colon is a heading (as in the
    notice itself), "活动时间：" or a bare "活动时间" line is a form label."""
    m = rules.line_re.match(line)
    if not m:
        return None
    name = rules.labels.get((m["full"] or "").lower()) or rules.numbered_only[m["short"].lower()]
    form = ":" in m["sep"] or "】" in m["sep"] or not (m["num"] or m["short"])
    return name, orig[m.end():].strip(), form


def _placeholder(value: str, rules: PlanRules) -> bool:
    bare = _bare(value)
    folded = value.translate(_FOLD).lower()
    return not bare or any(mark in folded for mark in rules.placeholder_marks) or any(
        bare in p and len(bare) * 2 >= len(p) for p in rules.placeholders)


def _fields(text: str, rules: PlanRules) -> dict[str, str]:
    """Field -> content for one text (placeholders and empty fields left out)."""
    orig = text.replace("\r", "")
    folded = orig.translate(_FOLD)  # matched; values are cut from orig at the same positions
    for cut in reversed([m.start() for m in rules.split_re.finditer(folded)]):
        orig, folded = (x[:cut] + "\n" + x[cut:] for x in (orig, folded))  # run-on labels
    # four or more bare "三、活动时间" headings: a plan laid out as an outline, each value on
    # the lines below (the notice's own few headings do not make one)
    outline = sum(1 for line in folded.split("\n") if "\t" not in line and
                  (h := _label(line, line, rules)) and not h[1] and not h[2]) >= 4
    raw: dict[str, list[list[str]]] = {}  # field -> one list of lines per label seen
    current, header = None, None  # field still taking lines; column labels of a header row
    for line, original in zip(folded.split("\n"), orig.split("\n")):
        if "\t" in line:  # a table row: label cells, value cells
            pairs = [(c, o) for c, o in zip(line.split("\t"), original.split("\t")) if c.strip()]
            cells = [o.strip() for _, o in pairs]
            hits = [_label(c, o, rules) for c, o in pairs]
            if len(cells) > 1 and all(h and not h[1] for h in hits):
                header, current = [h[0] for h in hits], None  # "活动时间 | 活动地点" ...
                continue
            if header and not any(hits):  # ... over "2024年7月5日 | 校史馆"
                for name, cell in zip(header, cells):
                    raw.setdefault(name, []).append([cell])
                header = None
                continue
            header, row_field = None, None
            for cell, hit in zip(cells, hits):
                if hit:
                    row_field = hit[0]
                    raw.setdefault(row_field, []).append([hit[1]])
                elif row_field or current:  # current: a merged label cell above
                    raw[row_field or current][-1].append(cell)
            current = (row_field or current) if (row_field or current) in rules.multiline else None
            continue
        hit = _label(line, original, rules)
        if hit:
            name, rest, form = hit
            raw.setdefault(name, []).append([rest])
            current = name if name in rules.multiline or not rest and (form or outline) else None
        elif current and line.strip():
            if _STOP.match(line):
                current = None
                continue
            raw[current][-1].append(original.strip())
            if current not in rules.multiline:
                current = None
    out = {}
    for name, segments in raw.items():
        values = (" ".join(" ".join(x.split()) for x in lines if x.strip()) for lines in segments)
        value = next((v for v in values if not _placeholder(v, rules)), None)
        if value is not None:
            out[name] = value
    return out


def _visit(value: str, year: int) -> tuple[str, str]:
    """(ISO date, "HH:MM") read from the 活动时间 field; "" where not found."""
    value = value.translate(_FOLD)
    day, rest = "", value
    for rx, parts in ((_DATE_FULL, lambda m: m.groups()),
                      (_DATE_MD, lambda m: (year, *m.groups()))):
        for m in rx.finditer(value):
            try:
                day = date(*map(int, parts(m))).isoformat()
            except ValueError:
                continue
            rest = value[m.end():]
            break
        if day:
            break
    for m in _TIME.finditer(rest):
        hour, minute = int(m[2]), int(m[3] or m[4] or (30 if m[5] else 0))
        if m[1] in ("下午", "晚上") and hour < 12 or m[1] == "中午" and hour < 11:
            hour += 12
        if hour < 24 and minute < 60:
            return day, f"{hour:02d}:{minute:02d}"
    return day, ""


def _phone(contact: str) -> str:
    contact = contact.translate(_FOLD)
    hits = [(m.start(), "".join(m.groups())) for m in _MOBILE.finditer(contact)]
    hits += [(m.start(), f"{m[1]}-{m[2]}{m[3]}") for m in _LAND.finditer(contact)]
    return min(hits)[1] if hits else ""


def check_plan(texts: Sequence[str], year: int, rules: PlanRules | None = None) -> PlanCheck:
    """Check ``texts`` (the body, then each document's text) against the template.

    A field counts as present when its label ("一、活动背景：", "【活动时间】",
    "1.活动地点", a table cell) is followed by real content, not by nothing
    or the template's placeholder.  Values come from the text with the most
    fields first.  ``year`` completes dates written without one ("7月5日").
    """
    rules = rules or DEFAULT_RULES
    parsed = sorted((_fields(t, rules) for t in texts if t), key=len, reverse=True)
    merged: dict[str, str] = {}
    for one in parsed:
        for name, value in one.items():
            merged.setdefault(name, value)
    visit_date, visit_time = _visit(merged.get(TIME_FIELD, ""), year)
    contact = merged.get(CONTACT_FIELD, "")
    return PlanCheck(found=tuple(f for f in rules.fields if f in merged),
                     missing=tuple(f for f in rules.fields if f not in merged),
                     visit_date=visit_date, visit_time=visit_time,
                     place=merged.get(PLACE_FIELD, "").split("\n")[0].strip(" 。;；,，"),
                     contact=contact, phone=_phone(contact))


def signed_contact(check: PlanCheck, own_text: str) -> tuple[PlanCheck, Evidence | None]:
    """*check* with its missing 活动联系人及电话 taken from the signature of the sender's own
    words (*own_text*), and the evidence saying so; unchanged (None) when it is not missing
    or the last lines carry no phone number.  The signature is the block of short lines
    around the last phone number: "李明 / 四川大学后勤保障部 / 电话：028-84616000"."""
    if CONTACT_FIELD not in check.missing or not check.found:  # no template at all: say so
        return check, None
    lines = [x.strip() for x in own_text.replace("\r", "").split("\n")]
    tail = [i for i, line in enumerate(lines) if line][-_SIGNATURE_LINES:]
    at = next((i for i in reversed(tail) if _phone(lines[i])), None)
    if at is None or not _signature_line(lines[at]):  # "如有问题请联系片区组长…，电话…。"
        return check, None
    block = [lines[at]]
    for line in reversed(lines[max(at - 6, 0):at]):  # up to the three lines above, blank
        if not line:  # lines between them allowed (an HTML signature's <div>s)
            continue
        if len(block) == 4 or not _signature_line(line):
            break
        block.insert(0, line)
    contact = " ".join(block)
    return replace(check, found=tuple(f for f in FIELDS if f in check.found or f == CONTACT_FIELD),
                   missing=tuple(f for f in check.missing if f != CONTACT_FIELD),
                   contact=contact, phone=_phone(contact)), Evidence(
        "plan.signature", f"活动联系人及电话取自邮件签名：{contact}")


def _signature_line(line: str) -> bool:
    """A signature line: a name, a unit, a title, a phone — not a sentence, not "--", and
    not about someone else (the secretariat, a district leader: "已告知秘书处贺老师 …")."""
    return 0 < len(line) <= 40 and not line.startswith("--") and \
        line[-1] not in "。！？!?：:" and not any(c in line for c in "，,；;") and \
        not any(word in line for word in _NOT_SIGNATURE)


def damaged_evidence(attachments: Iterable[Attachment],
                     read: Callable[[Attachment], tuple[str, bool]] = read_document
                     ) -> tuple[Evidence, ...]:
    """One ``Evidence("plan.damaged", "附件《x》无法打开…，请重新发送")`` per document
    attachment that could not be opened (cut off in transit, corrupt): unlike a scan
    (``plan.unreadable``) no one can look at it, the school has to send it again.
    *read*: :func:`~.documents.read_document`, or a reader that remembers its answers."""
    return tuple(Evidence("plan.damaged", f"附件《{a.filename or '未命名'}》无法打开"
                                          "（文件可能已损坏或不完整），请重新发送")
                 for a in attachments if read(a)[1])
