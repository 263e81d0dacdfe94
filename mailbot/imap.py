"""The only module that talks IMAP (through imapclient).

:class:`ImapMailbox` is a thin, typed wrapper: connect (implicit TLS, STARTTLS
or plain), send ID when offered (163/126 refuse SELECT without it), select a
folder, list UIDs above a mark, fetch raw messages with ``BODY.PEEK[]`` (so
nothing is marked read by fetching) in batches bounded by count and bytes,
and apply the processed action.  Every failure becomes :class:`MailServerError`.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Self

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from .config import Mailbox
from .errors import FolderError, MailServerError
from .spool import Spool
from .tlsport import GREETING_SECONDS, security_hint

BATCH_BYTES = 32 * 1024 * 1024
SPOOL_SIZE = 16 * 1024 * 1024  # larger messages are fetched piece by piece into a Spool
PIECE = 4 * 1024 * 1024  # bytes per partial fetch (BODY.PEEK[]<offset.length>)
CLIENT_ID = {"name": "mailbot", "version": "0.1", "vendor": "mailbot"}


@dataclass(frozen=True)
class Fetched:
    uid: int
    raw: bytes | Spool  # a Spool (on disk, mapped) for a message over SPOOL_SIZE
    internal_date: datetime | None
    oversize: int | None = None  # set when only the header was fetched: the message's size


def chunks(uids: list[int], size: int = 1000) -> list[list[int]]:
    """Ascending UID lists of at most *size* (Dovecot refuses command lines over 64 KB;
    Tencent Exmail refuses descending sets)."""
    ordered = sorted(uids)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


@lru_cache(maxsize=4)
def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """A verifying TLS context; trusts *ca_file* too when given (self-signed servers).
    Cached: loading the system certificates costs half of an idle poll."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


def batches(sizes: dict[int, int], max_count: int, max_bytes: int = BATCH_BYTES) -> list[list[int]]:
    """Group UIDs (ascending) so each batch has at most *max_count* UIDs and,
    unless a single message is larger, at most *max_bytes* bytes."""
    out: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid in sorted(sizes):
        size = sizes[uid]
        if current and (len(current) >= max_count or total + size > max_bytes):
            out.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        out.append(current)
    return out


def plan_fetches(sizes: dict[int, int], batch_size: int, max_size: int | None = None,
                 spool_size: int | None = None) -> list[tuple[list[int], str]]:
    """Fetch batches in ascending UID order: (uids, how) with how "whole", "header"
    (a message over *max_size*: only its header) or "spool" (a message over
    *spool_size*: piece by piece to disk); the last two get a batch of their own."""
    out: list[tuple[list[int], str]] = []
    run: dict[int, int] = {}
    for uid in sorted(sizes):
        alone = "header" if max_size and sizes[uid] > max_size else \
            "spool" if spool_size and sizes[uid] > spool_size else None
        if alone:
            out += [(b, "whole") for b in batches(run, batch_size)] + [([uid], alone)]
            run = {}
        else:
            run[uid] = sizes[uid]
    return out + [(b, "whole") for b in batches(run, batch_size)]


def _login_hint(error: Exception) -> str:
    """A refused login in one sentence: the server's words as text (imaplib gives bytes),
    and what to check."""
    said = error.args[0] if error.args else error
    said = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    if (bare := re.fullmatch(r"""b(['"])(.*)\1""", said.strip(), re.DOTALL)) is not None:
        said = bare[2]  # imapclient passes on imaplib's bytes as their repr
    if "AUTHENTICATIONFAILED" in said.upper() or "LOGIN" in said.upper() or "密码" in said:
        return ("用户名或密码（授权码）错误：QQ、163/126 邮箱须用开启 IMAP 时生成的授权码，"
                f"请检查环境变量 MAILBOT_IMAP_PASSWORD (login failed: {said})")
    return f"(login failed): {said}"


class ImapMailbox:
    """A logged-in connection to the contact mailbox; use as a context manager."""

    def __init__(self, cfg: Mailbox, password: str, ca_file: str = "", timeout: float = 60):
        self.cfg = cfg
        self.account = f"{cfg.username}@{cfg.host}"
        where = f"{cfg.host}:{cfg.port}"
        if not password:
            raise MailServerError("未设置邮箱密码：请设置环境变量 MAILBOT_IMAP_PASSWORD "
                                  "(IMAP password missing)")
        try:
            self.client = IMAPClient(cfg.host, port=cfg.port, ssl=cfg.security == "tls",
                                     ssl_context=tls_context(ca_file),
                                     timeout=SocketTimeout(GREETING_SECONDS, timeout))
            self.client.normalise_times = False
            self.client._imap.debug = 0  # imaplib would repr() every literal: 4.5x slower
            if cfg.security == "starttls":
                self.client.starttls(tls_context(ca_file))
        except (OSError, IMAPClientError) as e:
            hint = security_hint("mailbox", cfg.security, cfg.host, cfg.port, e, 993)
            raise MailServerError(f"无法连接 IMAP 服务器 {where}" + (f"：{hint}" if hint else "")
                                  + f" (cannot connect): {e}") from None
        try:
            self.client.login(cfg.username, password)
            if self.client.has_capability("ID"):
                self.client.id_(CLIENT_ID)
        except (OSError, IMAPClientError) as e:
            self.close()
            raise MailServerError(f"IMAP 登录失败 {cfg.username}@{where}：{_login_hint(e)}") from None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.client.logout()
        except (OSError, IMAPClientError, AttributeError):
            try:
                self.client.shutdown()
            except (OSError, IMAPClientError, AttributeError):
                pass

    def _call(self, what: str, fn, *args):
        try:
            return fn(*args)
        except (TimeoutError, OSError, IMAPClientError) as e:
            raise MailServerError(f"IMAP 操作失败：{what} (IMAP command failed): {e}") from None

    def _folder_call(self, folder: str, fn, *args):
        """*fn* on *folder*: the server refusing it (NO, BAD) raises :class:`FolderError`,
        a broken connection :class:`MailServerError`."""
        try:
            return fn(folder, *args)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as e:  # a tagged NO/BAD: the session itself is fine
            raise FolderError(self._folder_problem(folder, e)) from None

    def _folder_problem(self, folder: str, error: Exception) -> str:
        """One Chinese sentence for a folder the server refused, listing the folders it has."""
        try:
            names = [name for _flags, _sep, name in self.client.list_folders()]
        except (OSError, IMAPClientError):
            names = []
        if names and folder in names:  # there, but not to be opened (rights, a \Noselect)
            return (f"邮箱中的文件夹“{folder}”无法打开（服务器答复：{error}），请检查该文件夹的权限，"
                    "或修改配置 [mailbox] folders (folder refused)")
        there = f"邮箱中现有的文件夹：{'、'.join(names)}；" if names else ""
        return (f"邮箱中没有文件夹“{folder}”（或无权打开）。{there}请改正配置 [mailbox] folders "
                "(no such folder)")

    def select(self, folder: str) -> int:
        """Select *folder* read-write and return its UIDVALIDITY."""
        info = self._call(f"打开文件夹 {folder}", self._folder_call, folder, self.client.select_folder)
        return int(info[b"UIDVALIDITY"])

    def next_uid(self, folder: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, UIDNEXT) of *folder* from STATUS, without selecting it; None when
        the server leaves either out.  A poll with nothing new needs no more."""
        info = self._call(f"查询文件夹 {folder}", self._folder_call, folder,
                          self.client.folder_status, [b"UIDVALIDITY", b"UIDNEXT"])
        try:
            return int(info[b"UIDVALIDITY"]), int(info[b"UIDNEXT"])
        except (KeyError, TypeError, ValueError):
            return None

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than *last_uid* in the selected folder, ascending.

        ``UID n:*`` always matches the highest UID even when it is below n, so
        the result is filtered.
        """
        found = self._call("搜索新邮件", self.client.search, ["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each UID (UIDs expunged meanwhile are left out)."""
        out: dict[int, int] = {}
        for part in chunks(uids):
            data = self._call("读取邮件大小", self.client.fetch, part, [b"RFC822.SIZE"])
            out.update({uid: int(v.get(b"RFC822.SIZE", 0)) for uid, v in data.items()})
        return out

    def fetch(self, uids: list[int], batch_size: int, max_size: int | None = None,
              spool: Callable[[], Spool] | None = None) -> Iterator[Fetched]:
        """Yield the raw bytes of each UID in ascending order, without setting \\Seen.

        A message larger than *max_size* is not downloaded: only its header is,
        with ``oversize`` set to its size.  With *spool* (a Spool factory), a
        message over SPOOL_SIZE arrives as a finished Spool, never whole in memory;
        the caller closes it.
        """
        sizes = self.sizes(uids)
        for batch, how in plan_fetches(sizes, batch_size, max_size,
                                       SPOOL_SIZE if spool else None):
            if how == "spool":
                got = self._spooled(batch[0], spool)
                if got is not None:
                    yield got
                continue
            part = b"BODY.PEEK[]" if how == "whole" else b"BODY.PEEK[HEADER]"
            data = self._call("下载邮件", self.client.fetch, batch, [part, b"INTERNALDATE"])
            for uid in sorted(data):
                item = data.pop(uid)
                raw = item.get(b"BODY[]" if how == "whole" else b"BODY[HEADER]")
                if raw is None:
                    continue
                yield Fetched(uid, raw if isinstance(raw, bytes) else bytes(raw),
                              item.get(b"INTERNALDATE"),
                              None if how == "whole" else sizes[uid])

    def _spooled(self, uid: int, spool: Callable[[], Spool]) -> Fetched | None:
        """Fetch one message by ``BODY.PEEK[]<offset.length>`` pieces into a new Spool
        (None if it was expunged meanwhile)."""
        sp, offset, when = spool(), 0, None
        try:
            while True:
                want = [f"BODY.PEEK[]<{offset}.{PIECE}>".encode()] + \
                    ([b"INTERNALDATE"] if offset == 0 else [])
                item = self._call("下载邮件", self.client.fetch, [uid], want).get(uid)
                piece = item.get(f"BODY[]<{offset}>".encode()) if item else None
                if piece is None:
                    sp.close()
                    return None
                when = when or item.get(b"INTERNALDATE")
                sp.write(piece)
                offset += len(piece)
                if len(piece) < PIECE:
                    break
            sp.finish()
        except BaseException:
            sp.close()
            raise
        return Fetched(uid, sp, when)

    def supports_idle(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    def wait_for_new(self, timeout: float, interrupt: Callable[[], bool] = lambda: False
                     ) -> bool:
        """IDLE on the selected folder for up to *timeout* seconds; True when the server
        announced new mail (EXISTS or RECENT), False on timeout or when *interrupt*
        (asked four times a second) says another user of this connection is waiting."""
        deadline = time.monotonic() + timeout
        self._call("开始 IDLE", self.client.idle)
        try:
            while True:
                left = deadline - time.monotonic()
                responses = self._call("等待新邮件", self.client.idle_check, min(0.25, left))
                if any(isinstance(r, tuple) and any(x in (b"EXISTS", b"RECENT") for x in r)
                       for r in responses):
                    return True
                if left <= 0.25 or interrupt():
                    return False
        finally:
            self._call("结束 IDLE", self.client.idle_done)

    def alive(self) -> bool:
        """Whether the connection still answers (NOOP); False after a server timeout."""
        try:
            self.client.noop()
            return True
        except (OSError, IMAPClientError):
            return False

    def mark_processed(self, uids: list[int], action: str, folder: str) -> None:
        """Apply the processed action to *uids*: "seen", "move" to *folder*, or "none"."""
        if not uids or action == "none":
            return
        if action == "move" and not self._call("检查文件夹", self.client.folder_exists, folder):
            self._call(f"创建文件夹 {folder}", self.client.create_folder, folder)
        for part in chunks(uids):
            self._apply(part, action, folder)

    def _apply(self, uids: list[int], action: str, folder: str) -> None:
        self._call("标记已读", self.client.add_flags, uids, [b"\\Seen"])
        if action == "seen":
            return
        if self.client.has_capability("MOVE"):
            self._call(f"移动到 {folder}", self.client.move, uids, folder)
        else:
            self._call(f"复制到 {folder}", self.client.copy, uids, folder)
            self._call("删除原件", self.client.delete_messages, uids)
            expunge = (self.client.uid_expunge if self.client.has_capability("UIDPLUS")
                       else lambda _uids: self.client.expunge())
            self._call("清除原件", expunge, uids)
