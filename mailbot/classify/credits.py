"""Files a district leader sends on behalf of its schools; pure.

A district lead school gathers its schools' material.  When it attaches their files to
a mail of its own (rather than forwarding their mails, see :mod:`.forwards`), a file
whose name names exactly one school of the directory, not the leader's own (and not as a
place visited: "参观宜宾学院" is no credit), by a name or alias of four characters or
more (a short alias such as "成体" starts too many words), is that school's: the
submission credits the school with what the file delivers, judged from the file alone,
and the leader only with the rest.  Links likewise: a line of the leader's text naming
one school so ("2. 宜宾学院：https://b23.tv/…"), or the lines holding only a link right
below such a line, credit their links to that school.  A school of another district is
never credited, and no sender but a district lead school moves anyone's files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ..htmltext import html_to_text
from ..parse import Attachment, ParsedMessage
from .directory import Directory, School
from .school import mentioned

MIN_NAME = 4  # characters of the school name or alias a file must give
_LINKISH = re.compile(r"(?:https?://|www\.)\S+|[\w.-]+\.[a-z]{2,6}/\S*"
                      r"|(?:提取码|密码|访问码|pwd|code)\s*[:：=]?\s*\w{0,8}", re.IGNORECASE)
_NOISE = re.compile(r"[\s\d.,;:!?、，。；：！？()（）\-–—*•·<>\[\]【】“”\"'「」]+|链接|网址|地址|下载"
                    r"|视频号|视频|微信推文|推文|公众号|B站|哔哩哔哩|抖音|快手|百度网盘|网盘",
                    re.IGNORECASE)  # a link's label ("视频：…", "推文：…") says nothing new


@dataclass(frozen=True)
class Credit:
    """Files of one school in a leader's mail, and what they deliver."""

    school: str
    district: str | None
    kinds: tuple[str, ...]
    files: tuple[str, ...]  # the attachments' filenames, in the mail's order
    plan_missing: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # the URLs of the links credited, in the text's order
    plan_info: Mapping[str, str] = field(default_factory=dict)  # a plan's visit, contact
    late: bool = False


def credited_files(msg: ParsedMessage, directory: Directory, sender_school: str | None,
                   keep: str | None = None) -> dict[str, list[Attachment]]:
    """School -> the attachments of *msg* (not inline) credited to it, in the mail's order;
    empty unless *sender_school* leads a district.  Files naming *keep* stay in the mail."""
    if not directory.is_lead(sender_school):
        return {}
    district = directory.by_name[sender_school].district
    out: dict[str, list[Attachment]] = {}
    for att in msg.attachments:
        named = {s.name: s for s in _named(att.filename, directory)}
        if att.inline or len(named) != 1 or sender_school in named or keep in named:
            continue
        (school,) = named.values()
        if school.district in ("", None, district):
            out.setdefault(school.name, []).append(att)
    return out


def credited_lines(msg: ParsedMessage, directory: Directory, sender_school: str | None,
                   urls: Callable[[str], list[str]], keep: str | None = None
                   ) -> dict[str, list[str]]:
    """School -> the lines of *msg*'s text holding links credited to it (see the module
    docstring), in the text's order; *urls(line)* gives a line's links.  Empty unless
    *sender_school* leads a district; *keep*'s lines stay in the mail."""
    if not directory.is_lead(sender_school):
        return {}
    district = directory.by_name[sender_school].district
    out: dict[str, list[str]] = {}
    current: School | None = None
    heading = ""  # the line naming *current*, given with its first link (its words count)
    for line in _linked_text(msg).split("\n"):
        if not line.strip():
            continue  # blank lines (an HTML mail's paragraphs) end nothing
        found = urls(line)
        named = {s.name: s for s in _named(line, directory)}
        if named:
            current = next(iter(named.values())) if len(named) == 1 else None
            heading = "" if found else line
        elif not found or _words(line):
            current = None  # a line of text that names nobody ends the school's links
        school = current
        if found and school and school.name not in (sender_school, keep) and \
                school.district in ("", None, district):
            out.setdefault(school.name, []).extend([heading, line] if heading else [line])
            heading = ""
    return out


def _linked_text(msg: ParsedMessage) -> str:
    """*msg*'s text; but when its HTML has web links the text does not show ("宜宾学院：<a
    href=…>点击观看</a>", QQ Mail's plain alternative saying only "点击观看"), the HTML's
    text with each link's address after its anchor's words."""
    text = msg.text or ""
    if msg.html and any(h.startswith(("http://", "https://")) and h not in text
                        for h in msg.hrefs):
        return html_to_text(msg.html, inline_links=True)[0]
    return text


def _words(line: str) -> str:
    """What *line* says besides its links, a share's password, list numbering and
    punctuation (a link line's own words: "链接：…  提取码：ab12。" says nothing)."""
    line = _LINKISH.sub(" ", line)
    return _NOISE.sub("", line)


def _named(filename: str, directory: Directory) -> list[School]:
    """The schools *filename* names other than as a place visited, by long names only."""
    return [school for school, written, visit in mentioned(filename, directory)
            if not visit and len(written) >= MIN_NAME]


Judge = Callable[[ParsedMessage], dict]


def credits(msg: ParsedMessage, directory: Directory, sender_school: str | None, judge: Judge,
            urls: Callable[[str], list[str]] = lambda line: [], keep: str | None = None
            ) -> tuple[tuple[Credit, ...], ParsedMessage]:
    """The credits of *msg* (see the module docstring) and *msg* without their files and
    the lines of their links.  *judge(view)* gives the :class:`Credit` fields ``kinds``,
    ``plan_missing``, ``plan_info`` and ``late`` of a mail holding one school's files
    alone, and its lines as text, without subject (the leader's words are about all of
    them); *urls(line)* gives the links of a line of text.  *keep*: the school whose mail
    the leader forwarded (the mail is that school's; its files and links stay in it)."""
    found = credited_files(msg, directory, sender_school, keep)
    lines = credited_lines(msg, directory, sender_school, urls, keep)
    if not found and not lines:
        return (), msg
    lead = directory.by_name[sender_school]
    out = []
    for school in dict.fromkeys([*found, *lines]):
        files, own_lines = found.get(school, []), lines.get(school, [])
        view = replace(msg, subject="", text="\n".join(own_lines), html="", hrefs=(),
                       attachments=tuple(files), forwarded=())
        own = directory.by_name[school].district or None
        out.append(Credit(school=school, district=own or lead.district or None,
                          files=tuple(a.filename for a in files),
                          links=tuple(dict.fromkeys(u for ln in own_lines for u in urls(ln))),
                          **judge(view)))
    moved = {id(a) for files in found.values() for a in files}
    rest = tuple(a for a in msg.attachments if id(a) not in moved)
    taken = {ln for own_lines in lines.values() for ln in own_lines}
    text = "\n".join(ln for ln in _linked_text(msg).split("\n") if ln not in taken)
    given = {url.rstrip("/") for c in out for url in c.links}  # an HTML anchor's too
    return tuple(out), replace(msg, attachments=rest, text=text,
                               hrefs=tuple(h for h in msg.hrefs if h.rstrip("/") not in given))
