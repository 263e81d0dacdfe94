"""The same mail sent again: recorded, but neither acknowledged nor counted twice.

A school unsure whether its mail arrived sends it again (QQ Mail's "再次发送", or the
same files attached anew): a new Message-ID and Date, new MIME boundaries, so the raw
duplicate check does not see it.  Same sender, same subject, same text, the same files
(by content; inline images under :data:`DECOR_BYTES` aside: a signature's logo, which one
client adds and another not) and the same links as a submission recorded within
:data:`WINDOW_DAYS` before it: it is recorded as ``ignored`` ("重复发送"), with no second receipt — unless the
sender asked to recall that one meanwhile, or that one's receipt was refused for good (no
receipt came: that is why it was sent again).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from . import db, receipts
from .models import OutboxMail, Receipt
from .parse import ParseError, parse_message
from .rows import reply_added, resent_of

if TYPE_CHECKING:
    from .pipeline import Context, Intake

WINDOW_DAYS = 14
DECOR_BYTES = 16 * 1024  # an inline image this small is a logo or an emoji, not material
RECALL_RULE = "status.recall"  # the evidence a recall request leaves (mailbot.recall)


def skip_resent(ctx: Context, it: Intake) -> bool:
    """Mark *it* ignored when it repeats a recent submission of its sender's (see module)."""
    p = it.parsed
    if p is None or not p.sender or it.status not in receipts.RECEIPT_STATUSES or \
            it.received_at is None or it.parent_pk is not None:
        return False
    files = _material((stored.sha256, att.inline, att.content_type, stored.size)
                      for _, att, stored, _ in it.files)
    links = frozenset(ln.url for ln in it.verdict.links) if it.verdict else frozenset()
    since = it.received_at - timedelta(days=WINDOW_DAYS)
    for earlier in db.recent_from(ctx.session, db.clean(p.sender), db.clean(p.subject), since):
        if _same_material(earlier, files, links) and not _recalled(earlier) and \
                _same_text(ctx, earlier.raw_path, p.text) and \
                not _receipt_failed(ctx.session, earlier.id):  # sent again as no
            # receipt came (it was refused): this one is acknowledged
            it.status = "ignored"
            it.reason = (f"重复发送：与 #{earlier.id} 内容相同（同一发件人、主题、正文、附件和链接），"
                         f"不再发回执 {resent_of(earlier.id)}")
            return False
    return False


_RECEIPT_STATUS = select(OutboxMail.status).join(Receipt, Receipt.outbox_pk == OutboxMail.id).where(
    Receipt.message_pk == bindparam("pk"), OutboxMail.kind == "receipt").order_by(OutboxMail.id)


def _receipt_failed(session: Session, pk: int) -> bool:
    """Whether the receipt of submission *pk* was refused for good (never reached its sender)."""
    return session.connection().execute(_RECEIPT_STATUS, {"pk": pk}).scalars().all()[-1:] == \
        ["failed"]


def _same_material(earlier: db.Recent, files: tuple[str, ...], links: frozenset[str]) -> bool:
    """Whether *files* and *links* are those of *earlier*: all of them, or only the mail's own
    (without what replies to its receipt added)."""
    if _material(earlier.files) == files and earlier.links == links:
        return True
    added = reply_added(earlier.evidence)
    return bool(added) and earlier.links - added == links and \
        _material(f for f in earlier.files if f[0] not in added) == files


def _material(files) -> tuple[str, ...]:
    """The sha256 of the (sha256, inline, content type, size) *files* the comparison counts:
    all but inline images under DECOR_BYTES, sorted."""
    return tuple(sorted(sha for sha, inline, ctype, size in files
                        if not (inline and ctype.startswith("image/") and size < DECOR_BYTES)))


def _recalled(earlier: db.Recent) -> bool:
    """Whether the sender asked to recall *earlier* itself (mailbot.recall; not a reply merged
    into it): sent again after that, the mail stands on its own, acknowledged."""
    return any(e.get("rule") == RECALL_RULE and not e.get("reply") for e in earlier.evidence)


def _same_text(ctx: Context, raw_path: str, text: str) -> bool:
    """Whether the stored mail at *raw_path* says *text*, whitespace and the lines a mail
    client adds by itself ("发自我的iPhone": rules/kinds.toml ``client_tags``) aside."""
    try:
        earlier = parse_message(ctx.desk.store.path(raw_path).read_bytes())
    except (OSError, ParseError):  # its original is gone (retention) or unreadable: cannot tell
        return False
    tags = ctx.desk.rules.kinds.client_tags
    return _words(earlier.text, tags) == _words(text, tags)


def _words(text: str, tags) -> list[str]:
    """*text* split on whitespace, without the lines that are only a client's tag."""
    return [w for line in text.splitlines()
            if not any(t.fullmatch(line.strip()) for t in tags) for w in line.split()]
