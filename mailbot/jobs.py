"""``mailbot run``: the daemon — APScheduler jobs for polling, sending, digests, retention.

Jobs never overlap (:class:`Single`), missed runs are coalesced, an IMAP,
SMTP or database failure backs off exponentially (with jitter) instead of
hammering the provider, and SIGTERM/SIGINT let the message in hand finish
before exit.  No failure ends the daemon: a job that fails logs one sentence
(an unexpected one its traceback) and is tried again later.  The backoff is
capped at a few poll intervals, and the IDLE connection coming back after a
failure polls at once, so an outage ends for mailbot soon after it ends for the
server.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from . import db, digest_run, retention
from .config import Config
from .desk import Desk, build_desk
from .errors import MailbotError, MailServerError
from .imap import ImapMailbox
from .outbox import deliver
from .poll import connect, poll_and_record, remember_error
from .receipts import release_held

log = logging.getLogger(__name__)
MAX_BACKOFF = 30 * 60
BACKOFF_POLLS = 5  # a failing mailbox is tried again at least every 5 poll intervals
IDLE_SECONDS = 60  # re-issue IDLE this often (RFC 2177: well under 29 minutes)
HOUSEKEEPING = (3, 30)  # retention runs daily at 03:30, campaign time zone
SKIP_NOTE_SECONDS = 600  # a job still running when due again says so at most this often
JOB_ZH = {"poll": "收信", "send": "发信", "digest": "简报", "retention": "按保留期限清理"}


class Single:
    """A scheduled job that never runs twice at once: a run falling due while the previous
    one is still going (a long first poll, a slow SMTP server) is skipped, and said in one
    Chinese line at most every :data:`SKIP_NOTE_SECONDS`.  APScheduler's own limit
    (``max_instances=1``) would log an English warning at every skipped run instead."""

    def __init__(self, name: str, fn):
        self.name, self.fn, self.lock = name, fn, threading.Lock()
        self.skipped, self.noted = 0, float("-inf")

    def __call__(self) -> None:
        if not self.lock.acquire(blocking=False):
            self.skipped += 1
            if time.monotonic() - self.noted >= SKIP_NOTE_SECONDS:
                log.info("%s：上一轮尚未结束，跳过本轮（已跳过 %d 次；此类提示每 %d 分钟至多一条）",
                         JOB_ZH.get(self.name, self.name), self.skipped, SKIP_NOTE_SECONDS // 60)
                self.noted, self.skipped = time.monotonic(), 0
            return
        try:
            self.fn()
        finally:
            self.lock.release()


class Backoff:
    """After a failure, wait 2^n × base seconds (±20 % jitter, capped) before trying again."""

    def __init__(self, base: float, cap: float = MAX_BACKOFF):
        self.base, self.cap, self.failures, self.until = base, max(cap, base), 0, 0.0

    def ready(self) -> bool:
        return time.monotonic() >= self.until

    def failed(self) -> float:
        """Count a failure; return the delay (seconds) before the next try."""
        self.failures += 1
        delay = min(self.base * 2 ** min(self.failures - 1, 32), self.cap)
        delay *= random.uniform(0.8, 1.2)
        self.until = time.monotonic() + delay
        return delay

    def succeeded(self) -> None:
        self.failures, self.until = 0, 0.0


def reminder_times(cfg: Config, now: datetime) -> list[datetime]:
    """The extra digest runs: ``reminder_days_before`` days before each phase's due date,
    at the digest time (campaign time zone), those still ahead of *now*."""
    tz = ZoneInfo(cfg.campaign.timezone)
    hour, minute = (int(x) for x in cfg.digest.time.split(":"))
    out = set()
    for phase in cfg.campaign.phases:
        if phase.due:
            day = phase.due - timedelta(days=cfg.digest.reminder_days_before)
            when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
            if when > now:
                out.add(when)
    return sorted(out)


def reminder_day(cfg: Config, now: datetime) -> bool:
    """Whether *now* falls on a reminder day (:func:`reminder_times`, campaign time zone)."""
    today = now.astimezone(ZoneInfo(cfg.campaign.timezone)).date()
    return any(p.due and p.due - timedelta(days=cfg.digest.reminder_days_before) == today
               for p in cfg.campaign.phases)


def last_slot(cfg: Config, now: datetime) -> datetime:
    """The most recent weekly digest time at or before *now*."""
    tz = ZoneInfo(cfg.campaign.timezone)
    hour, minute = (int(x) for x in cfg.digest.time.split(":"))
    local = now.astimezone(tz)
    for back in range(8):
        day = (local - timedelta(days=back)).date()
        when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
        if day.strftime("%a").lower() == cfg.digest.day_of_week and when <= now:
            return when
    raise AssertionError("unreachable")


class Daemon:
    """The scheduled jobs of one ``mailbot run`` process."""

    def __init__(self, cfg: Config, engine: Engine, desk: Desk | None = None):
        self.cfg, self.engine = cfg, engine
        self.desk = desk or build_desk(cfg)
        self.stopping = threading.Event()
        interval = cfg.mailbox.poll_interval_seconds
        self.retry_cap = min(MAX_BACKOFF, BACKOFF_POLLS * interval)
        self.poll_backoff = Backoff(min(interval, 60), self.retry_cap)
        self.send_backoff = Backoff(30)
        self.imap_lock = threading.Lock()  # one IMAP connection, shared by polls and IDLE
        self.poll_waiting = threading.Event()  # a poll wants the connection: IDLE yields
        self.box: ImapMailbox | None = None
        self.sched: BackgroundScheduler | None = None

    def connection(self) -> ImapMailbox:
        """The daemon's one IMAP connection (hold ``imap_lock``): kept between polls,
        made again when the server dropped it."""
        if self.box is not None and not self.box.alive():
            log.info("IMAP connection lost; reconnecting")
            self.drop_connection()
        if self.box is None:
            self.box = connect(self.cfg)
        return self.box

    def drop_connection(self) -> None:
        if self.box is not None:
            self.box.close()
            self.box = None

    def poll_job(self) -> None:
        """Poll once unless backing off; a failure of any kind backs off and is logged."""
        if not self.poll_backoff.ready() or self.stopping.is_set():
            return
        started = time.monotonic()
        self.poll_waiting.set()
        try:
            with self.imap_lock:
                self.poll_waiting.clear()
                report = poll_and_record(self.cfg, self.engine, self.desk, self.stopping.is_set,
                                         self.connection(), send=False)
        except MailbotError as e:
            if isinstance(e, MailServerError):  # a database failure keeps the connection
                with self.imap_lock:
                    self.drop_connection()
            # poll_and_record keeps its own; a connection that failed first must show too
            remember_error(self.engine, {"at": datetime.now(UTC).isoformat(), "error": str(e)})
            log.warning("poll failed, retrying in %.0f s: %s", self.poll_backoff.failed(), e)
            return
        except Exception:  # a bug: keep the daemon, say where
            with self.imap_lock:
                self.drop_connection()
            log.exception("poll failed unexpectedly, retrying in %.0f s",
                          self.poll_backoff.failed())
            return
        finally:
            self.poll_waiting.clear()
        self.poll_backoff.succeeded()
        log.info("poll: fetched=%d recorded=%d duplicates=%d ms=%d", report.fetched,
                 report.recorded, report.duplicates, (time.monotonic() - started) * 1000)
        if report.recorded and self.sched and not self.stopping.is_set():
            # the receipts go out now, from the send job's thread: SMTP never holds up intake
            self.sched.modify_job("send", next_run_time=datetime.now(UTC))

    def send_job(self) -> None:
        """Release held receipts and send what is due unless backing off from an SMTP failure;
        a database failure is logged and left to the next run (every 15 s, or after a poll)."""
        if not self.send_backoff.ready() or self.stopping.is_set():
            return
        try:
            with db.storage_errors("发放合并回执失败 (cannot release held receipts)"), \
                    db.transaction(self.engine) as s:
                release_held(s, self.cfg)
            report = deliver(self.engine, self.cfg)
        except MailbotError as e:  # the database (SMTP failures come back as "deferred")
            log.warning("send failed, retrying at the next run: %s", e)
            return
        except Exception:  # a bug: keep the daemon, say where
            log.exception("send failed unexpectedly, retrying at the next run")
            return
        if report.deferred:
            log.warning("send deferred, retrying in %.0f s: %s", self.send_backoff.failed(),
                        report.errors[-1])
        else:
            self.send_backoff.succeeded()
        if report.sent or report.failed:
            log.info("send: sent=%d failed=%d", report.sent, report.failed)

    def digest_job(self) -> None:
        """Queue the digests due (each audience once per period) and send them; on a
        reminder day one goes even with nothing new while a school is missing something."""
        if self.stopping.is_set():
            return
        names = digest_run.audiences(self.cfg)
        try:
            with db.storage_errors("生成简报失败 (digest failed)"):
                outcomes = digest_run.run(self.engine, self.cfg, names,
                                          remind=reminder_day(self.cfg, datetime.now(UTC)))
        except MailbotError as e:  # the next run (or `mailbot digest`) catches up
            log.error("digest failed: %s", e)
            return
        log.info("digest: %s", ", ".join(f"{o.audience}={o.result}" for o in outcomes))
        self.send_job()

    def retention_job(self) -> retention.Plan | None:
        """Apply ``[retention]`` once; one log line with what went."""
        if self.stopping.is_set():
            return None
        try:
            p = retention.run(self.engine, self.desk.store, self.cfg.retention)
        except MailbotError as e:
            log.warning("retention failed: %s", e)
            return None
        mails = sum(it.kind == "message" and it.rule != retention.LEFTOVER for it in p.items)
        log.info("retention: messages=%d files=%d outbox_bodies=%d shared_kept=%d bytes=%d",
                 mails, sum(len(it.files) for it in p.items),
                 sum(it.kind == "outbox" for it in p.items), len(p.shared), p.freed)
        return p

    def digest_overdue(self, now: datetime) -> bool:
        """True when some audience's last digest ended before the last weekly slot."""
        slot = last_slot(self.cfg, now)
        with db.transaction(self.engine) as s:
            ends = [db.get_state(s, f"digest:{n}").get("end")
                    for n in digest_run.audiences(self.cfg)]
        return any(e and datetime.fromisoformat(e) < slot for e in ends)

    def scheduler(self) -> BackgroundScheduler:
        # Two instances: a run due while one is going reaches Single, which skips it quietly
        sched = BackgroundScheduler(timezone=self.cfg.campaign.timezone, job_defaults={
            "coalesce": True, "max_instances": 2, "misfire_grace_time": 3600})
        jobs = {name: Single(name, fn) for name, fn in (
            ("poll", self.poll_job), ("send", self.send_job), ("digest", self.digest_job),
            ("retention", self.retention_job))}
        now = datetime.now(UTC)
        sched.add_job(jobs["poll"], "interval", id="poll", next_run_time=now,
                      seconds=self.cfg.mailbox.poll_interval_seconds)
        sched.add_job(jobs["send"], "interval", id="send", seconds=15,
                      next_run_time=now + timedelta(seconds=2))
        if retention.cutoffs(self.cfg.retention, now):
            sched.add_job(jobs["retention"], "cron", id="retention", hour=HOUSEKEEPING[0],
                          minute=HOUSEKEEPING[1])
        if self.cfg.digest.enabled:
            hour, minute = (int(x) for x in self.cfg.digest.time.split(":"))
            sched.add_job(jobs["digest"], "cron", id="digest",
                          day_of_week=self.cfg.digest.day_of_week, hour=hour, minute=minute)
            if self.digest_overdue(now):  # the daemon was down at the last slot: catch up once
                sched.add_job(jobs["digest"], "date", id="digest-catch-up",
                              run_date=now + timedelta(seconds=5))
            for when in reminder_times(self.cfg, now):
                sched.add_job(jobs["digest"], "date", id=f"reminder-{when:%Y%m%d}",
                              run_date=when)
        return sched

    def idle_loop(self, sched: BackgroundScheduler) -> None:
        """Between polls, keep the daemon's IMAP connection in IDLE on the first folder;
        when the server announces new mail, run the poll job now.  IDLE yields the
        connection within a second when a poll wants it.  Servers without IDLE
        (163/126) are left to the interval poll.  Failures reconnect with backoff."""
        backoff = Backoff(5, self.retry_cap)
        mb = self.cfg.mailbox
        while not self.stopping.is_set():
            while self.poll_waiting.is_set() and not self.stopping.is_set():
                self.stopping.wait(0.05)  # let the poll take the connection first
            try:
                with self.imap_lock:
                    box = self.connection()
                    if not box.supports_idle():
                        log.info("server has no IDLE: polling every %d s", mb.poll_interval_seconds)
                        return
                    box.select(mb.folders[0])
                    if backoff.failures:
                        self.server_back(sched)
                    new = box.wait_for_new(IDLE_SECONDS, lambda: self.poll_waiting.is_set()
                                           or self.stopping.is_set())
                backoff.succeeded()
                if new:  # poll right here: no hand-over through the scheduler
                    log.info("IDLE: new mail announced")
                    self.poll_job()
            except Exception as e:  # MailServerError, or a bug: reconnect all the same
                with self.imap_lock:
                    self.drop_connection()
                delay = backoff.failed()
                log.warning("IDLE connection failed, retrying in %.0f s: %s", delay, e,
                            exc_info=not isinstance(e, MailbotError))
                self.stopping.wait(delay)

    def server_back(self, sched: BackgroundScheduler) -> None:
        """The IMAP server answers again after a failure: poll now, whatever the backoff."""
        log.info("IDLE: server reachable again, polling now")
        self.poll_backoff.succeeded()
        sched.modify_job("poll", next_run_time=datetime.now(UTC))

    def run(self) -> None:
        """Run until SIGTERM/SIGINT; the job in hand finishes its message first."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        if swept := self.desk.store.sweep():
            log.info("removed %d temp files an interrupted run left behind", swept)
        sched = self.sched = self.scheduler()
        sched.start()
        threading.Thread(target=self.idle_loop, args=(sched,), name="idle", daemon=True).start()
        log.info("mailbot run: polling %s every %d s", self.cfg.mailbox.username,
                 self.cfg.mailbox.poll_interval_seconds)
        self.stopping.wait()
        log.info("stopping: finishing the job in hand")
        sched.shutdown(wait=True)
        with self.imap_lock:
            self.drop_connection()
