"""SQLAlchemy 2.x models: the whole schema in one place.

Times are stored in UTC (:class:`UTCDateTime`): SQLite keeps no offset, so a time
stored with its sender's +08:00 would come back eight hours late.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and read back aware (UTC) on every backend.

    An aware value is converted to UTC before it is written; a naive one is taken as
    UTC already.  PostgreSQL's ``timestamptz`` would keep the instant anyway; SQLite
    stores the wall time without its offset, so without the conversion a mail dated
    20:05 +08:00 read back as 20:05 UTC, 04:05 the next day in Sichuan.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class Base(DeclarativeBase):
    pass


class Message(Base):
    """One mail received, whatever became of it (accepted, ignored, quarantined)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[str | None] = mapped_column(Text, index=True)
    sender: Mapped[str | None] = mapped_column(Text, index=True)
    sender_name: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    raw_path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    school: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    plan_missing: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[list] = mapped_column(JSON, default=list)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    plan_info: Mapped[dict] = mapped_column(JSON, default=dict)
    # set when retention removed the original and the attachments (the row stays)
    files_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the bundle this mail came in, forwarded as an attachment (None: it came on its own)
    parent_pk: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", name="fk_messages_parent_pk"), index=True)
    # files a district leader sent for its schools: [{school, district, kinds, files,
    # plan_missing}] (classify.credits); None in rows older than migration 0009
    credits: Mapped[list | None] = mapped_column(JSON, default=list)

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.position", cascade="all, delete-orphan")
    links: Mapped[list[Link]] = relationship(
        back_populates="message", order_by="Link.position", cascade="all, delete-orphan")
    receipt: Mapped[Receipt | None] = relationship(back_populates="message", uselist=False)


class Attachment(Base):
    """A file that came with a message (inline images and forwarded mail's files too)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(Text)
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)

    message: Mapped[Message] = relationship(back_populates="attachments")


class Link(Base):
    """A link found in a message (video, article, large-attachment download...)."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[str] = mapped_column(Text, default="")
    expires: Mapped[str] = mapped_column(Text, default="")
    password: Mapped[str] = mapped_column(Text, default="")

    message: Mapped[Message] = relationship(back_populates="links")


class KnownSender(Base):
    """An address confirmed as writing for a school (by a reply or the roster)."""

    __tablename__ = "known_senders"

    address: Mapped[str] = mapped_column(Text, primary_key=True)
    school: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, default="")
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ImapUid(Base):
    """One (account, folder, UIDVALIDITY, UID) seen, and the message it holds.

    The highest UID per (account, folder, uidvalidity) is where the next poll
    starts; ``action_done`` says whether the processed action (mark seen or
    move) has been applied since the message was committed.
    """

    __tablename__ = "imap_uids"
    __table_args__ = (UniqueConstraint("account", "folder", "uidvalidity", "uid"),
                      Index("ix_imap_uids_pending", "account", "folder", "uidvalidity",
                            "action_done"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(Text)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    action_done: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxMail(Base):
    """A mail mailbot must send, written in the transaction that decided it.

    status: pending -> sending -> sent; failed (permanent refusal);
    unconfirmed (a crash left it "sending": it may have gone out, so it is
    never re-sent automatically; ``mailbot outbox retry`` does).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_recipient_kind_created", "recipient", "kind",
                            "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(Text, unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when retention emptied ``raw`` (the row stays: it keeps the Message-ID unique)
    body_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Receipt(Base):
    """The numbered acknowledgement of one submission."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    number: Mapped[str] = mapped_column(Text, unique=True)
    outbox_pk: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    outbox: Mapped[OutboxMail | None] = relationship()
    message: Mapped[Message] = relationship(back_populates="receipt")


class BouncingAddress(Base):
    """An address our mail bounced from: no receipts until it writes to us again."""

    __tablename__ = "bouncing_addresses"

    address: Mapped[str] = mapped_column(Text, primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")


class AppState(Base):
    """Small facts the daemon keeps between runs (last poll, last error, digest periods)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
