"""Files a district leader sends on behalf of its schools; pure.

A district lead school gathers its schools' material.  When it attaches their files to
a mail of its own (rather than forwarding their mails, see :mod:`.forwards`), a file
whose name names exactly one school of the directory, not the leader's own (and not as a
place visited: "参观宜宾学院" is no credit), by a name or alias of four characters or
more (a short alias such as "成体" starts too many words), is that school's: the
submission credits the school with what the file delivers, judged from the file alone,
and the leader only with the rest.  A school of another district is never credited, and
no sender but a district lead school moves anyone's files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ..parse import Attachment, ParsedMessage
from .school import Directory, School, mentioned

MIN_NAME = 4  # characters of the school name or alias a file must give


@dataclass(frozen=True)
class Credit:
    """Files of one school in a leader's mail, and what they deliver."""

    school: str
    district: str | None
    kinds: tuple[str, ...]
    files: tuple[str, ...]  # the attachments' filenames, in the mail's order
    plan_missing: tuple[str, ...] = ()
    plan_info: Mapping[str, str] = field(default_factory=dict)  # a plan's visit, contact
    late: bool = False


def credited_files(msg: ParsedMessage, directory: Directory, sender_school: str | None
                   ) -> dict[str, list[Attachment]]:
    """School -> the attachments of *msg* (not inline) credited to it, in the mail's order;
    empty unless *sender_school* leads a district."""
    if not directory.is_lead(sender_school):
        return {}
    district = directory.by_name[sender_school].district
    out: dict[str, list[Attachment]] = {}
    for att in msg.attachments:
        named = {s.name: s for s in _named(att.filename, directory)}
        if att.inline or len(named) != 1 or sender_school in named:
            continue
        (school,) = named.values()
        if school.district in ("", None, district):
            out.setdefault(school.name, []).append(att)
    return out


def _named(filename: str, directory: Directory) -> list[School]:
    """The schools *filename* names other than as a place visited, by long names only."""
    return [school for school, written, visit in mentioned(filename, directory)
            if not visit and len(written) >= MIN_NAME]


Judge = Callable[[ParsedMessage], dict]


def credits(msg: ParsedMessage, directory: Directory, sender_school: str | None, judge: Judge
            ) -> tuple[tuple[Credit, ...], ParsedMessage]:
    """The credits of *msg* (see the module docstring) and *msg* without their files.
    *judge(view)* gives the :class:`Credit` fields ``kinds``, ``plan_missing``,
    ``plan_info`` and ``late`` of a mail holding one school's files alone, without subject
    or text (the leader's words are about all of them)."""
    found = credited_files(msg, directory, sender_school)
    if not found:
        return (), msg
    lead = directory.by_name[sender_school]
    out = []
    for school, files in found.items():
        view = replace(msg, subject="", text="", html="", hrefs=(), attachments=tuple(files),
                       forwarded=())
        own = directory.by_name[school].district or None
        out.append(Credit(school=school, district=own or lead.district or None,
                          files=tuple(a.filename for a in files), **judge(view)))
    moved = {id(a) for files in found.values() for a in files}
    rest = tuple(a for a in msg.attachments if id(a) not in moved)
    return tuple(out), replace(msg, attachments=rest)
