"""Files a district leader sends on behalf of its schools; pure.

A district lead school gathers its schools' material.  When it attaches their files to
a mail of its own (rather than forwarding their mails, see :mod:`.forwards`), a file
whose name names exactly one other school of the directory (not as a place visited:
"参观宜宾学院" is no credit) is that school's: the submission credits the school with
what the file delivers, judged from the file alone, and the leader only with the rest.
Another school's files are never moved by a sender that leads no district.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..parse import Attachment, ParsedMessage
from .school import Directory, schools_named


@dataclass(frozen=True)
class Credit:
    """Files of one school in a leader's mail, and what they deliver."""

    school: str
    district: str | None
    kinds: tuple[str, ...]
    files: tuple[str, ...]  # the attachments' filenames, in the mail's order
    plan_missing: tuple[str, ...] = ()


def credited_files(msg: ParsedMessage, directory: Directory, sender_school: str | None
                   ) -> dict[str, list[Attachment]]:
    """School -> the attachments of *msg* (not inline) credited to it, in the mail's order;
    empty unless *sender_school* leads a district."""
    if not directory.is_lead(sender_school):
        return {}
    out: dict[str, list[Attachment]] = {}
    for att in msg.attachments:
        named = {s.name for s in schools_named(att.filename, directory)} - {sender_school}
        if not att.inline and len(named) == 1:
            out.setdefault(named.pop(), []).append(att)
    return out


def credits(msg: ParsedMessage, directory: Directory, sender_school: str | None,
            judge: Callable[[ParsedMessage], tuple[tuple[str, ...], tuple[str, ...]]]
            ) -> tuple[tuple[Credit, ...], ParsedMessage]:
    """The credits of *msg* (see the module docstring) and *msg* without their files.
    *judge(view)* gives (kinds, plan fields missing) of a mail holding one school's files
    alone, without subject or text (the leader's words are about all of them)."""
    found = credited_files(msg, directory, sender_school)
    if not found:
        return (), msg
    lead = directory.by_name[sender_school]
    out = []
    for school, files in found.items():
        view = replace(msg, subject="", text="", html="", hrefs=(), attachments=tuple(files),
                       forwarded=())
        kinds, missing = judge(view)
        own = directory.by_name[school].district or None
        out.append(Credit(school, own or lead.district or None, kinds,
                          tuple(a.filename for a in files), missing))
    moved = {id(a) for files in found.values() for a in files}
    rest = tuple(a for a in msg.attachments if id(a) not in moved)
    return tuple(out), replace(msg, attachments=rest)
