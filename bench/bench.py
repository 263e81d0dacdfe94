"""mailbot intake benchmark (issue 8): run it through ``bench/run`` (see bench/README.md).

Builds deterministic mailboxes in the local Dovecot under the dedicated user
postmaster@scgxhq.test (LMTP into INBOX, then one IMAP MOVE into a folder per data
set; a marker in bench/.cache/ lets later runs reuse them), then measures:
mbsync mirroring the folder (the wire/disk limit), ``mailbot poll --once`` full
intake on a fresh data dir, the idle ("nothing new") poll from the CLI and in
process, peak RSS for one 50 MB attachment, and the receipt delay under
``mailbot run``.  Prints a table and writes bench/results.md.  Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from mailgen import (
    BENCH_USER,
    SPEC_VERSION,
    Generator,
    copy_in_chunks,
    ensure_folder,
    imap,
    log,
    reset,
    tls,
)

MAILBOT, PYTHON = ROOT / ".venv/bin/mailbot", ROOT / ".venv/bin/python"
CONTACT_LIKE, SCHOOL = "mishuchu@scgxhq.test", "houqin@scu.edu.cn"
E = os.environ  # MAILSTACK_* and MAILBOT_CONFIG from `eval "$(scripts/mailstack env)"`
GB_PER_SCALE = 30.0  # mailbox 2.6 GB + five mbsync mirrors 2.6 GB each + three intakes' raw and files 4.4 GB each,
# at scale 1: nothing is deleted before the run ends (see mbsync())

IN_PROCESS = """
import json, sys, time
t0 = time.perf_counter()
from mailbot import config, db
from mailbot.desk import build_desk
from mailbot.poll import poll_once
t1 = time.perf_counter()
setups = []
for path in sys.argv[1:]:
    cfg = config.load(path); setups.append((cfg, db.connect(cfg.storage.database_url), build_desk(cfg)))
    if len(setups) == 1:
        t2 = time.perf_counter()  # one mailbot's config, database and rules loaded
try:
    from mailbot.poll import connect   # the daemon's way: one connection for every poll
    boxes = [connect(cfg) for cfg, _, _ in setups]
except ImportError:
    boxes = None
runs = [{"polls": [], "reused": []} for _ in setups]
for rnd in range(6):  # six rounds a second apart; within a round the mailboxes alternate poll
    # by poll (in an order reversed every round): a passing stall or a drift of the machine
    # lands on both, never on one mailbox's ten polls
    order = list(range(len(setups)))[::1 if rnd % 2 == 0 else -1]
    time.sleep(1)
    for _ in range(10):
        for i in order:
            cfg, engine, desk = setups[i]
            s = time.perf_counter(); r = poll_once(cfg, engine, desk, send=False)
            runs[i]["polls"].append(time.perf_counter() - s)
            assert r.fetched == 0, r
    for _ in range(10 if boxes else 0):
        for i in order:
            cfg, engine, desk = setups[i]
            s = time.perf_counter(); r = poll_once(cfg, engine, desk, box=boxes[i], send=False)
            runs[i]["reused"].append(time.perf_counter() - s)
for box in boxes or ():
    box.close()
print(json.dumps({"import": t1 - t0, "setup": t2 - t1, "runs": runs}))
"""


# ---- running things ------------------------------------------------------------------
class Failed(Exception):
    """A measured command exited non-zero."""


def timed(cmd: list, env: dict | None = None) -> tuple[float, float, str, float]:
    """Run *cmd* under /usr/bin/time -v: (wall seconds, peak RSS MB, stdout+stderr, busy
    CPU-seconds of the whole machine meanwhile — the command's processes, Dovecot's, the
    kernel's: :func:`busy`).  The disk is synced first, so no run pays for the write-back
    of the one before."""
    os.sync()
    with tempfile.NamedTemporaryFile("r") as tf:
        t0, cpu0 = time.monotonic(), busy()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name, *map(str, cmd)], check=False,
                           capture_output=True, text=True, env=env)
        wall, cpu = time.monotonic() - t0, busy() - cpu0
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
    if p.returncode:
        raise Failed(f"{Path(cmd[0]).name} exited {p.returncode}: {(p.stdout + p.stderr).strip()[-2000:]}")
    return wall, int(rss[1]) / 1024, p.stdout + p.stderr, cpu


def busy() -> float:
    """CPU-seconds the machine has spent not idle since boot (all CPUs: user, nice,
    system, interrupts; not idle, I/O wait or steal), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return (sum(ticks[:3]) + sum(ticks[5:7])) / os.sysconf("SC_CLK_TCK")


def mailbot_env() -> dict:
    return {k: v for k, v in E.items()
            if k not in ("MAILBOT_CONFIG", "MAILBOT_DATA_DIR", "MAILBOT_DATABASE_URL")}


def write_config(where: Path, user: str, folders: list[str], action: str = "none",
                 receipts: bool = False, interval: int = 120, extra: str = "") -> Path:
    """A mailbot config in *where* (data dir *where*/data) with the stack's campaign."""
    stack = Path(E["MAILBOT_CONFIG"]).read_text(encoding="utf-8")
    campaign, ca = stack[stack.index("\n[campaign]"):], E["MAILSTACK_CA_FILE"]
    (where / "data").mkdir(parents=True, exist_ok=True)
    path = where / "mailbot.toml"
    path.write_text(f"""[mailbox]
host = "localhost"
port = {E["MAILSTACK_IMAPS_PORT"]}
security = "tls"
username = "{user}"
ca_file = "{ca}"
folders = {json.dumps(folders)}
processed_action = "{action}"
poll_interval_seconds = {interval}
{extra}

[smtp]
host = "localhost"
port = {E["MAILSTACK_SMTP_PORT"]}
security = "starttls"
username = "{user}"
from_address = "{user}"
from_name = "四川省高校后勤协会思政会秘书处"
ca_file = "{ca}"

[storage]
data_dir = "{where / "data"}"

[receipts]
enabled = {"true" if receipts else "false"}
per_hour = 1000
per_day = 1000

[digest]
enabled = false
{campaign}""", encoding="utf-8")
    return path


def mbsync(work: Path, folder: str, fsync: bool = True) -> dict:
    """Mirror *folder* to a fresh Maildir with mbsync over IMAPS: wall, RSS."""
    d = Path(tempfile.mkdtemp(dir=work, prefix="mbsync-"))
    (d / "mirror").mkdir()
    (d / "mbsyncrc").write_text(("" if fsync else "FSync no\n\n") + f"""IMAPAccount bench
Host localhost
Port {E["MAILSTACK_IMAPS_PORT"]}
User {BENCH_USER}
PassCmd "printenv MAILSTACK_PASSWORD"
SSLType IMAPS
CertificateFile {E["MAILSTACK_CA_FILE"]}

IMAPStore remote
Account bench

MaildirStore local
Path {d}/mirror/
Inbox {d}/mirror/INBOX

Channel bench
Far :remote:
Near :local:
Patterns {folder}
Create Near
Sync Pull
SyncState *
""")
    wall, rss, _, cpu = timed(["mbsync", "-q", "-c", d / "mbsyncrc", "bench"])
    n = sum(1 for sub in ("cur", "new") for _ in (d / "mirror" / folder / sub).iterdir())
    # Kept until the run ends, like every data dir: on this ext4 (no journal) a file created
    # within a minute or five of mass deletions makes the inode allocator scan the freshly freed
    # inodes (ext4 recently_deleted()), which cost the next timed command 3-5 s.
    return {"wall": wall, "rss": rss, "count": n, "cpu": cpu}


def intake(work: Path, folder: str, extra: str = "", where: Path | None = None) -> dict:
    """``mailbot poll --once`` over *folder* on a fresh data dir and SQLite database
    (or on the one in *where*)."""
    where = where or Path(tempfile.mkdtemp(dir=work, prefix=f"intake-{folder}-"))
    cfg = write_config(where, BENCH_USER, [folder], receipts=True, extra=extra)
    # receipts on (limits at 1000, so every one is written), queued but not sent: the issue's
    # "queue receipts"; sending them is the SMTP server's pace, measured by the receipt delay
    wall, rss, out, cpu = timed([MAILBOT, "--config", cfg, "poll", "--once", "--no-send"],
                                mailbot_env())
    m = re.search(r"收取 (\d+) 封，新登记 (\d+) 封", out)
    return {"wall": wall, "rss": rss, "cpu": cpu, "fetched": int(m[1]), "recorded": int(m[2]),
            "summary": out.strip().splitlines()[-1], "cfg": cfg,
            "data_mb": sum(f.stat().st_size for f in (where / "data").rglob("*") if f.is_file()) / 1e6}


def chunked_intake(work: Path, src: str, chunk: int = 2000) -> dict:
    """The intake of *src* as a growing folder: *chunk* mails copied into it, then a poll."""
    runs: list[dict] = []
    for _ in copy_in_chunks(src, f"{src}-live", chunk):
        runs.append(intake(work, f"{src}-live", where=runs[-1]["cfg"].parent if runs else None))
    return {"wall": sum(r["wall"] for r in runs), "rss": max(r["rss"] for r in runs),
            "cfg": runs[-1]["cfg"], "summary": f"{len(runs)} polls of {chunk}"}


def idle(*cfgs: Path, runs: int = 10) -> list[dict]:
    """"Nothing new" polls of each config's mailbox: the CLI start to finish, and poll_once
    in one process.  The mailboxes take turns, so that what they are compared on (the
    20,000 against the 2,000) is measured in the same minutes.  Neither sends: the intake
    left its receipts queued, to addresses the local Postfix refuses, and sending is
    `mailbot run`'s send job, not its poll."""
    cli: list[list[float]] = [[] for _ in cfgs]
    for _ in range(runs):
        for i, cfg in enumerate(cfgs):
            cli[i].append(timed([MAILBOT, "--config", cfg, "poll", "--once", "--no-send"],
                                mailbot_env())[0])
    p = subprocess.run([PYTHON, "-c", IN_PROCESS, *cfgs], capture_output=True, text=True,
                       env=mailbot_env(), check=True)
    inproc = json.loads(p.stdout)
    return [{"cli": statistics.median(c), "poll": statistics.median(r["polls"]),
             "reused": statistics.median(r["reused"]) if r["reused"] else None,
             "first_poll": r["polls"][0], "import": inproc["import"], "setup": inproc["setup"]}
            for c, r in zip(cli, inproc["runs"])]


def has_size_cap() -> bool:
    """Whether this mailbot has [mailbox] max_message_mb (messages above it: header only)."""
    return "max_message_mb" in (ROOT / "mailbot/config.py").read_text(encoding="utf-8")


def imap_floor(folder: str, runs: int = 10) -> float:
    """Median of connect + login + select + UID SEARCH (a new TLS connection each time)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with imap(BENCH_USER) as c:
            c.select(folder)
            c.uid("SEARCH", "UID", "999999:*")
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---- receipt delay ----------------------------------------------------------------------
def watch_receipts(arrived: dict, stop: threading.Event) -> None:
    """Poll the school's INBOX; note when each receipt (by In-Reply-To) first shows up."""
    with imap(SCHOOL) as c:
        c.select("INBOX")
        last = 0
        while not stop.is_set():
            c.noop()
            _, data = c.uid("SEARCH", "UID", f"{last + 1}:*")
            uids = [int(u) for u in data[0].split() if int(u) > last]
            if uids:
                now = time.monotonic()
                _, data = c.uid("FETCH", ",".join(map(str, uids)),
                                  "(BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO)])")
                for item in data:
                    if isinstance(item, tuple):
                        m = re.search(rb"<[^>]+>", item[1])
                        if m:
                            arrived.setdefault(m[0].decode(), now)
                last = max(uids)
            time.sleep(0.05)


def receipt_delay(work: Path, mails: int) -> dict:
    """Send *mails* submissions ~1/s to mishuchu@ through Postfix while ``mailbot run``
    (poll_interval_seconds = 1) polls it; time until each receipt reaches the school."""
    reset(CONTACT_LIKE)
    reset(SCHOOL)
    where = Path(tempfile.mkdtemp(dir=work, prefix="receipts-"))
    cfg = write_config(where, CONTACT_LIKE, ["INBOX"], action="seen", receipts=True, interval=1)
    daemon_log = (where / "daemon.log").open("w+")
    daemon = subprocess.Popen([MAILBOT, "--config", cfg, "run"], stdout=daemon_log,
                              stderr=subprocess.STDOUT, env=mailbot_env())
    arrived, sent, stop = {}, {}, threading.Event()
    watcher = threading.Thread(target=watch_receipts, args=(arrived, stop), daemon=True)
    try:
        for _ in range(300):                       # wait for the daemon's first poll
            if "poll:" in (where / "daemon.log").read_text():
                break
            time.sleep(0.1)
        watcher.start()
        with smtplib.SMTP("localhost", int(E["MAILSTACK_SMTP_PORT"])) as smtp:
            smtp.starttls(context=tls())
            smtp.login(SCHOOL, E["MAILSTACK_PASSWORD"])
            t0 = time.monotonic()
            for i in range(mails):
                msg = EmailMessage()
                msg["From"], msg["To"] = f"四川大学后勤党委 <{SCHOOL}>", CONTACT_LIKE
                msg["Subject"] = f"四川大学后勤党员参观校史馆新闻稿（第{i + 1}篇）"
                msg["Message-ID"] = mid = make_msgid("bench", "scu.edu.cn")
                msg.set_content("各位老师好：\n\n四川大学后勤党员参观了校史馆，现报送参观新闻。"
                                "\n\n四川大学后勤党委\n")
                time.sleep(max(0.0, t0 + i - time.monotonic()))    # ~1 mail per second
                sent[mid] = time.monotonic()
                smtp.send_message(msg)
        deadline = time.monotonic() + 60
        while len(arrived.keys() & sent.keys()) < mails and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        daemon.terminate()
        daemon.wait(60)
        daemon_log.close()
        reset(SCHOOL)
        reset(CONTACT_LIKE)
    text = (where / "daemon.log").read_text()
    delays = sorted(arrived[m] - t for m, t in sent.items() if m in arrived)
    return {"sent": mails, "received": len(delays),
            "median": statistics.median(delays) if delays else math.nan,
            "p95": delays[math.ceil(0.95 * len(delays)) - 1] if delays else math.nan,
            "max": max(delays, default=math.nan), "idle_wakeups": text.count("IDLE: new mail"),
            "polls": text.count("poll: fetched")}


# ---- report --------------------------------------------------------------------------------
def machine() -> str:
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1]) / 2**20
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    git = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                         check=False, capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} CPUs (`nproc` {len(os.sched_getaffinity(0))}), {mem:.1f} GiB RAM, "
            f"{cpu[1] if cpu else platform.machine()}, Python {platform.python_version()}, "
            f"mailbot `{git}`")


def report(rows: list[tuple[str, str, str]], notes: list[str], args) -> str:
    w = [max(len(r[i]) for r in rows + [("figure", "value", "target")]) for i in range(3)]
    print()
    for r in [("figure", "value", "target")] + rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
    md = ["# mailbot intake benchmark: latest results", "",
          f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %z}",
          f"- machine: {machine()}",
          (f"- run: `bench/run{' --quick' if args.quick else ''}"
           f"{f' --scale {args.scale}' if args.scale != 1 else ''}`"), *[f"- {n}" for n in notes],
          "", "| figure | value | target |", "|---|---|---|",
          *[f"| {a} | {b} | {c} |" for a, b, c in rows], ""]
    return "\n".join(md)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the 2,000/20,000 mailboxes")
    ap.add_argument("--quick", action="store_true", help="~200 messages, no 20,000 mailbox, 10 receipts")
    ap.add_argument("--seed", type=int, default=20240625)
    ap.add_argument("--receipts", type=int, help="mails sent for the receipt delay (default 50, quick 10)")
    ap.add_argument("--output", type=Path, default=HERE / "results.md")
    args = ap.parse_args()
    scale = args.scale * (0.1 if args.quick else 1.0)
    work = Path(tempfile.mkdtemp(prefix="mailbot-bench-"))
    free = min(shutil.disk_usage(work).free, shutil.disk_usage(ROOT).free) / 1e9
    if free < GB_PER_SCALE * scale + 1:
        scale = max(0.02, (free - 1) / GB_PER_SCALE)
        log(f"only {free:.1f} GB free: scaling down to {scale:.2f}")
    gen, n = Generator(ROOT, args.seed), max(1, round(2000 * scale))
    spec = f"v{SPEC_VERSION}/seed{args.seed}"
    rows, notes = [], [f"load average at start: {os.getloadavg()[0]:.2f} (other work on the machine skews the figures)"]
    try:
        main_box = ensure_folder(f"bench{n}", n, f"{spec}/mailbox/{n}", gen.mailbox(n))
        size_mb = main_box["bytes"] / 1e6
        notes.append(f"mailbox: {n} messages, {size_mb:.0f} MB (60% ~30 KB .docx, 25% 3–5 photos "
                     f"~300 KB, 10% ~1 MB PDF, 5% 10 MB video), "
                     + ("reused" if main_box["reused"] else f"built in {main_box['built_seconds']} s"))
        log("mbsync (fsync, IMAPS): one warm-up, then x3 ...")
        mbsync(work, f"bench{n}", fsync=False)  # untimed: the mailbox into the page cache
        ms = [mbsync(work, f"bench{n}") for _ in range(3)]
        mb = sorted(ms, key=lambda r: r["wall"])[1]
        mb_nofsync = mbsync(work, f"bench{n}", fsync=False)
        assert mb["count"] == n, mb
        rows += [("mbsync mirror (IMAPS, fsync; median of 3)", f"{mb['wall']:.1f} s, {mb['rss']:.0f} MB RSS", "the floor"),
                 ("mbsync mirror (IMAPS, FSync no)", f"{mb_nofsync['wall']:.1f} s", "")]
        log("mailbot poll --once: full intake ...")
        first = intake(work, f"bench{n}")  # kept: the idle polls below use its database
        runs = [first] + [intake(work, f"bench{n}") for _ in range(2)]  # median of 3, as for
        walls = [r["wall"] for r in runs]  # mbsync, each on a fresh data dir
        middle = sorted(runs, key=lambda r: r["wall"])[1]
        full = {**first, "wall": middle["wall"], "cpu": middle["cpu"],
                "rss": max(r["rss"] for r in runs)}
        notes.append(f"full intake: {full['summary']}; data dir afterwards {full['data_mb']:.0f} MB; "
                     f"runs {', '.join(f'{w:.1f}' for w in walls)} s")
        rows += [("mailbot poll --once, full intake (median of 3)", f"{full['wall']:.1f} s", ""),
                 ("full intake messages/s", f"{n / full['wall']:.1f}", ""),
                 ("full intake MB/s", f"{size_mb / full['wall']:.1f}", ""),
                 ("full intake peak RSS", f"{full['rss']:.0f} MB", ""),
                 ("ratio", f"{full['wall'] / mb['wall']:.2f}", "≤ 1.0 (mailbot / mbsync)"),
                 ("machine CPU busy: mbsync / full intake (median runs)",
                  f"{mb['cpu']:.1f} / {full['cpu']:.1f} CPU-s ({full['cpu'] / mb['cpu']:.2f}×)",
                  f"{os.cpu_count()} CPUs: {os.cpu_count() * mb['wall']:.1f} CPU-s in mbsync's time")]
        small = None
        if not args.quick:
            big = max(1, round(20000 * scale))
            ensure_folder(f"bench-small{big}", big, f"{spec}/small/{big}", gen.small(big))
            log(f"mailbot poll --once on {big} small mails ...")
            try:
                small = intake(work, f"bench-small{big}")
            except Failed as e:
                notes.append(f"`mailbot poll --once` over {big} new mails FAILED ({e}); the {big} were then "
                             "copied 2,000 at a time into a folder polled after each copy")
                small = chunked_intake(work, f"bench-small{big}")
        log("idle polls ...")  # both mailboxes in turns, in the same minutes (see idle())
        i2k, *rest = idle(full["cfg"], *([small["cfg"]] if small else []))
        rows += [(f"idle poll {n}: CLI wall (median of 10)", f"{i2k['cli'] * 1000:.0f} ms", ""),
                 (f"idle poll {n}: poll_once in process (median of 60)", f"{i2k['poll'] * 1000:.0f} ms", "≤ 50 ms"),
                 *([(f"idle poll {n}: on the daemon's one connection (median of 60)", f"{i2k['reused'] * 1000:.1f} ms", "")]
                   if i2k["reused"] is not None else []),
                 ("IMAP floor: connect+login+select+search (median of 10)", f"{imap_floor(f'bench{n}') * 1000:.0f} ms", ""),
                 ("CLI start-up: imports / config+db+rules", f"{i2k['import'] * 1000:.0f} ms / {i2k['setup'] * 1000:.0f} ms", "")]
        if small:
            i20k = rest[0]
            rows += [(f"intake of {big} small mails", f"{small['wall']:.0f} s, {big / small['wall']:.0f} msg/s, {small['rss']:.0f} MB RSS"
                      + (f" ({small['summary']})" if "polls" in small["summary"] else ""), ""),
                     (f"idle poll {big}: CLI wall (median of 10)", f"{i20k['cli'] * 1000:.0f} ms", ""),
                     (f"idle poll {big}: poll_once in process (median of 60)", f"{i20k['poll'] * 1000:.0f} ms",
                      f"≤ 50 ms, within 20 % of {n}: {(i20k['poll'] / i2k['poll'] - 1) * 100:+.0f} %")]
            if i20k["reused"] is not None and i2k["reused"] is not None:
                rows.append((f"idle poll {big}: on the daemon's one connection (median of 60)",
                             f"{i20k['reused'] * 1000:.1f} ms",
                             f"within 20 % of {n}: {(i20k['reused'] / i2k['reused'] - 1) * 100:+.0f} %"))
        hm = ensure_folder("bench-50mb", 1, f"{spec}/huge", [gen.huge()])
        log("50 MB attachment ...")
        huge, huge_mb = intake(work, "bench-50mb"), mbsync(work, "bench-50mb")
        rows += [("one 50 MB attachment: mailbot peak RSS", f"{huge['rss']:.0f} MB ({huge['wall']:.1f} s)", "≤ 150 MB"),
                 ("one 50 MB attachment: mbsync peak RSS", f"{huge_mb['rss']:.0f} MB ({huge_mb['wall']:.2f} s)", "")]
        notes.append(f"50 MB attachment (message {hm['bytes'] / 1e6:.0f} MB encoded), default config: {huge['summary']}")
        if has_size_cap():   # a size cap may turn the message away: measure real ingestion too
            raised = intake(work, "bench-50mb", "max_message_mb = 200")
            rows.append(("one 50 MB attachment, max_message_mb = 200: peak RSS",
                         f"{raised['rss']:.0f} MB ({raised['wall']:.1f} s)", "≤ 150 MB"))
            notes.append(f"50 MB attachment with max_message_mb = 200: {raised['summary']}")
        mails = args.receipts or (10 if args.quick else 50)
        log(f"receipt delay: {mails} mails under mailbot run ...")
        rd = receipt_delay(work, mails)
        mode = f"IDLE woke the poll {rd['idle_wakeups']} times" if rd["idle_wakeups"] else "no IDLE in this build"
        notes.append(f"receipt delay: `mailbot run` with poll_interval_seconds = 1 ({mode}); "
                     f"{rd['received']}/{rd['sent']} receipts arrived; the figure is for 1 s polling"
                     f"{' plus IDLE' if rd['idle_wakeups'] else ', not IDLE'}")
        rows += [("receipt delay median", f"{rd['median']:.2f} s", "≤ 3 s"),
                 ("receipt delay p95", f"{rd['p95']:.2f} s (max {rd['max']:.2f} s, {rd['received']}/{rd['sent']})", "≤ 5 s")]
    except BaseException as e:
        notes.append(f"INCOMPLETE: the run stopped with {e!r}")
        (HERE / ".cache").mkdir(exist_ok=True)
        args.output = HERE / ".cache" / "results-incomplete.md"   # keep the last complete results
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        notes.append(f"load average at the end: {os.getloadavg()[0]:.2f}")
        args.output.write_text(report(rows, notes, args), encoding="utf-8")
        log(f"written {args.output}")


if __name__ == "__main__":
    main()
