"""Hostile mail through the real command line: nothing crashes, nothing escapes the data dir.

Each input is imported with `mailbot import FILE` into a fresh SQLite data dir and
read back with `submissions --json`.  For every one: the CLI exits 0 without a
traceback; the mail is listed (recorded, or quarantined with its reason); nothing
was written in tmp_path outside the data dir and the database (the CLI runs in a
working directory inside tmp_path, and absolute-path names point into tmp_path);
every stored file is ``<kind>/<aa>/<sha256>.<ext>`` under the data dir.

Small inputs are stored in tests/data/hostile/ (rewritten by make_hostile.py); the
big ones are generated into tmp_path.  Slow ones (10,000 parts, 1,000-deep nesting,
zip bombs, a 200 MB message) are marked ``slow``: `make test-reliability` runs them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT, run_cli, write_config

sys.path.insert(0, str(DATA / "hostile"))
import make_hostile as mh

HOSTILE = DATA / "hostile"
STATUSES = {"accepted", "needs_school", "ignored", "quarantined"}
STORED = re.compile(r"(raw|files)/([0-9a-f]{2})/\2[0-9a-f]{62}(\.[a-z0-9]{1,10})?")
DB_FILES = {"db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "db.sqlite3-journal"}
MAX_RSS_MB = 400


def _snapshot(root: Path) -> dict[str, tuple]:
    """Every path under *root* outside the data dir and the database, with size and mtime."""
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if rel.parts[0] == "data" or rel.name in DB_FILES:
            continue
        st = path.lstat()
        out[rel.as_posix()] = (path.is_dir(), st.st_size if path.is_file() else 0, st.st_mtime_ns)
    return out


def _peak_cli(*args: str, config: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Run the CLI in a child of a small wrapper that reports the child's peak RSS (MB)."""
    wrapper = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
               "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
               " file=sys.stderr); sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "mailbot.cli",
                           "--config", str(config), *args], capture_output=True, text=True,
                          timeout=600, check=False)
    peak = re.search(r"PEAK_RSS_KB (\d+)", proc.stderr)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, int(peak.group(1)) / 1024 if peak else float("nan")


class Imported:
    """One hostile mail imported into a fresh data dir, and its listing row."""

    def __init__(self, tmp_path: Path, monkeypatch, raw: bytes | None = None,
                 path: Path | None = None, measure: bool = False):
        self.tmp, self.data = tmp_path, tmp_path / "data"
        if path is None:
            path = tmp_path / "in" / "mail.eml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
        self.config = write_config(tmp_path / "c.toml", None, self.data,
                                   f"sqlite:///{tmp_path / 'db.sqlite3'}")
        (tmp_path / "cwd").mkdir(exist_ok=True)
        monkeypatch.chdir(tmp_path / "cwd")  # a relative escape would land in tmp_path
        before = _snapshot(tmp_path)
        started = time.monotonic()
        if measure:
            self.proc, self.peak_mb = _peak_cli("import", str(path), config=self.config)
        else:
            self.proc, self.peak_mb = run_cli("import", str(path), config=self.config), None
        self.seconds = time.monotonic() - started
        if measure:
            print(f"{path.name}: {path.stat().st_size / 2**20:.1f} MB imported in "
                  f"{self.seconds:.1f} s, peak RSS {self.peak_mb:.0f} MB")
        assert "Traceback" not in self.proc.stderr, self.proc.stderr[-3000:]
        rows = json.loads(run_cli("submissions", "--json", config=self.config).stdout)
        assert _snapshot(tmp_path) == before, "something was written outside the data dir"
        for stored in self.data.rglob("*"):
            rel = stored.relative_to(self.data).as_posix()
            assert stored.is_dir() or STORED.fullmatch(rel), f"unexpected file in data dir: {rel}"
        assert len(rows) == 1, rows
        self.row = row = rows[0]
        assert row["status"] in STATUSES
        if row["status"] == "quarantined":
            assert row["status_reason"]
        assert not (row["status_reason"] or "").startswith("处理出错"), row["status_reason"]
        assert (self.data / row["raw_path"]).is_file()
        for a in row["attachments"]:
            assert STORED.fullmatch(a["path"]) and (self.data / a["path"]).is_file()

    def cli(self, *args: str) -> str:
        proc = run_cli(*args, config=self.config)
        assert "Traceback" not in proc.stderr
        return proc.stdout

    def rules(self) -> set[str]:
        return {e["rule"] for e in self.row["evidence"]}


# ------------------------------------------------------------------ file names
def test_path_traversal_filenames_stay_in_the_data_dir(tmp_path, monkeypatch):
    target = tmp_path / "abs-target" / "passwd"  # an absolute name pointing into tmp_path
    raw, expected = mh.traversal_names(str(target))
    run = Imported(tmp_path, monkeypatch, raw)
    assert run.row["status"] == "accepted" and run.row["school"] == "四川大学"
    names = [a["filename"] for a in run.row["attachments"]]
    assert sorted(names) == sorted(expected.values())  # decoded, kept as sent
    assert "新闻稿.docx" in names and not any("\x00" in n for n in names)  # NUL removed
    assert "活动方案" * 74 + "材料.docx" in names and "a" * 295 + ".docx" in names
    assert not target.exists() and not (tmp_path / "逃逸-ew.txt").exists()
    assert all(Path(a["path"]).name.split(".")[0] == a["sha256"] for a in run.row["attachments"])
    table = run.cli("submissions")
    assert "../../etc/x" in table and "Traceback" not in table


@pytest.mark.parametrize("name", sorted(mh.SMALL))
def test_stored_samples_match_the_generator(name):
    assert (HOSTILE / name).read_bytes() == mh.SMALL[name](), "run make_hostile.py"


def test_right_to_left_override_name_is_quarantined_and_shown_visibly(tmp_path, monkeypatch):
    run = Imported(tmp_path, monkeypatch, (HOSTILE / "rtl_override.eml").read_bytes())
    assert run.row["status"] == "quarantined"
    assert "<U+202E>" in run.row["status_reason"] and "\u202e" not in run.row["status_reason"]
    assert run.row["attachments"] == []  # kept inside the raw .eml, never filed
    assert "<U+202E>" in run.cli("explain", str(run.row["id"]))


# ------------------------------------------------------------------ broken encodings
@pytest.mark.parametrize("name", ["broken_base64.eml", "broken_quoted_printable.eml",
                                  "unknown_charsets.eml"])
def test_broken_encodings_and_unknown_charsets_are_recorded(tmp_path, monkeypatch, name):
    run = Imported(tmp_path, monkeypatch, (HOSTILE / name).read_bytes())
    assert run.row["status"] == "accepted" and run.row["school"] == "四川大学"
    if name == "broken_base64.eml":
        assert {"photo.png", "x.pdf"} <= {a["filename"] for a in run.row["attachments"]}
    if name == "broken_quoted_printable.eml":
        assert run.row["subject"] == "活动方案（QP 损坏）"
        assert [a["filename"] for a in run.row["attachments"]] == ["新闻=ZZ.txt"]
    if name == "unknown_charsets.eml":  # x-unknown GBK is recovered; codecs are no charsets
        assert run.row["subject"].startswith("活动方案新闻")
        assert run.row["sender_name"] == "四川大学"
        assert [a["filename"] for a in run.row["attachments"]] == ["活动.txt"]


def test_five_thousand_nested_comments_in_from_and_to(tmp_path, monkeypatch):
    # the stdlib address parser recursed once per "(": RecursionError, an internal error
    run = Imported(tmp_path, monkeypatch, (HOSTILE / "nested_comments.eml").read_bytes())
    assert run.row["sender"] == "houqin@scu.edu.cn" and run.row["school"] == "四川大学"
    assert run.row["status"] == "accepted" and run.seconds < 10, run.seconds


def test_corrupt_zip_attachment_is_filed_not_fatal(tmp_path, monkeypatch):
    # zipfile raised zlib.error out of the danger check: the mail became an internal error
    run = Imported(tmp_path, monkeypatch, (HOSTILE / "corrupt_zip.eml").read_bytes())
    assert run.row["status"] == "accepted"
    assert [a["filename"] for a in run.row["attachments"]] == ["新闻稿.zip"]


def test_a_one_megabyte_header_line(tmp_path, monkeypatch):
    path = mh.write_huge_header(tmp_path / "huge-header.eml")
    run = Imported(tmp_path, monkeypatch, path=path)
    assert run.row["status"] == "accepted" and run.row["subject"].startswith("活动方案活动方案")
    assert run.seconds < 20, run.seconds  # 1 MB of encoded words took 5 s (quadratic) before


# ------------------------------------------------------------------ executables
@pytest.mark.parametrize("label", sorted(mh.disguised_executables()))
def test_executables_in_disguise_are_quarantined(tmp_path, monkeypatch, label):
    run = Imported(tmp_path, monkeypatch, (HOSTILE / f"exe_{label}.eml").read_bytes())
    assert run.row["status"] == "quarantined"
    assert "danger.executable" in run.rules()
    assert run.row["attachments"] == [] and run.row["receipt"] is None
    files = run.data / "files"  # filed on the filer thread meanwhile, then taken back
    assert not [p for p in files.rglob("*") if p.is_file()] if files.exists() else True
    hint = {"double_extension": ".exe", "jpg_with_mz": "MZ", "zip_with_exe": "a.exe",
            "lnk": ".lnk", "scr": ".scr"}[label]
    assert hint in run.row["status_reason"]


# ------------------------------------------------------------------ markup
def test_markup_in_subject_name_filename_and_body_is_only_ever_text(tmp_path, monkeypatch):
    run = Imported(tmp_path, monkeypatch, (HOSTILE / "html_injection.eml").read_bytes())
    row = run.row
    assert row["status"] == "accepted"
    assert row["subject"] == "活动方案" + mh.XSS  # stored and listed as the text it is
    assert [a["filename"] for a in row["attachments"]] == [mh.XSS + ".docx"]
    assert not any("javascript:" in ln["url"] for ln in row["links"])
    explain = run.cli("explain", str(row["id"]))
    assert mh.XSS in explain and "&lt;" not in explain  # a terminal shows text, not markup
    assert mh.XSS in run.cli("submissions")

    from mailbot import config as config_mod
    from mailbot.receipts import build_receipt
    from mailbot.render import render
    html = render("receipt/receipt.html", r=row, number="JLX2024-0001",
                  secretariat=config_mod.load(run.config).secretariat, received="7月8日",
                  school_reason="x", kinds="活动方案", files=row["attachments"], links=[],
                  problems=[], deadlines=[], leader=None, update=0,
                  parts=[{"subject": "新闻稿" + mh.XSS, "sender": "x@scu.edu.cn", "outcome": ""}],
                  credits=[{"school": "宜宾学院", "files": "照片" + mh.XSS, "kinds": "新闻",
                            "plan_missing": "", "late": False}])
    assert "<script>" not in html and "onerror=alert(1)>" not in html
    assert "《新闻稿&lt;script&gt;" in html  # a forwarded mail's subject is text too
    assert "（照片&lt;script&gt;" in html  # and a credited file's name
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;.docx" in html
    mail = build_receipt(config_mod.load(run.config), row, "JLX2024-0001",
                         datetime(2024, 7, 8, tzinfo=UTC))
    body = mail.get_body(("html",)).get_content()
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert mail.get_body(("plain",)).get_content().count(mh.XSS) >= 1  # text/plain: as is


# ------------------------------------------------------------------ spoofing
def test_spoofed_school_domain_with_failed_dmarc_is_not_believed(tmp_path, monkeypatch):
    run = Imported(tmp_path, monkeypatch, (HOSTILE / "spoofed_dmarc_fail.eml").read_bytes())
    row = run.row
    assert row["school"] is None and row["status"] == "needs_school"
    spoof = [e for e in row["evidence"] if e["rule"] == "school.spoofed"]
    assert spoof and "scu.edu.cn" in spoof[0]["detail"] and "DMARC" in spoof[0]["detail"]
    assert "school.domain" not in run.rules()
    assert "DMARC" in run.cli("explain", str(row["id"]))


def test_authentication_results_rule():
    from mailbot.classify.engine import load_rulebook
    from mailbot.classify.school import auth_failures, identify_school
    from mailbot.parse import parse_message

    directory = load_rulebook(ROOT / "rules").directory
    genuine = parse_message(mh.spoofed_school("pass"))
    assert auth_failures(genuine) == [] and identify_school(genuine, directory).school == "四川大学"
    forged = parse_message(mh.spoofed_school("fail"))
    assert auth_failures(forged) == ["DMARC", "SPF"]
    assert identify_school(forged, directory).school is None
    assert identify_school(forged, directory, {"houqin@scu.edu.cn": "四川大学"}).school is None

    def auth(value: str) -> list[str]:
        top = mh.head("新闻稿", "a", sender="x <houqin@mail.scu.edu.cn>",
                      extra=[("Authentication-Results", value)])
        return auth_failures(parse_message(mh.simple(top, "正文")))

    assert auth("mx.qq.com; dkim=fail header.d=lists.example.org; spf=pass") == []  # a list's
    assert auth("mx.qq.com; dkim=fail (bad sig) header.d=scu.edu.cn") == ["DKIM"]
    assert auth("mx.qq.com; spf=fail smtp.mailfrom=a@scu.edu.cn; dmarc=pass "
                "header.from=scu.edu.cn") == []  # DMARC passed: the From is authentic
    assert auth("mx.qq.com; spf=softfail smtp.mailfrom=scu.edu.cn") == []
    assert auth("mx.qq.com; none") == [] and auth("garbage ;;; dmarc=") == []


# ------------------------------------------------------------------ receipts for hostile headers
@pytest.mark.parametrize("headers", [
    # a Subject holding an unterminated encoded word: CPython cannot fold the receipt subject
    b"Subject: =?utf-8?Q?=E9=93=BE=E6=8E=Aturn-Path: <a@b.c>\r\nMessage-ID: <x1@qq.com>\r\n",
    # a Message-ID that is an encoded word before the <id>: In-Reply-To cannot be folded
    b"Subject: hi\r\nMessage-ID: =?gb2312?B?2KfZhNmD2YQg?=  <tencent_FEF3@qq.com>\r\n",
    # U+0085 and U+2028 in a raw UTF-8 Subject: line breaks to the email package
    b"Subject: \xe6\xb4\xbb\xc2\x85\xe5\x8a\xa8\xe2\x80\xa8\xe6\x96\xb9\xe6\xa1\x88\r\n",
])
def test_receipt_for_hostile_headers(tmp_path, headers):
    import dataclasses

    from mailbot import config, db
    from mailbot.desk import build_desk
    from mailbot.pipeline import process
    cfg = config.load(ROOT / "config.example.toml")
    cfg = dataclasses.replace(cfg, storage=dataclasses.replace(
        cfg.storage, data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'd.db'}"))
    raw = (b"From: a <lina@sicnu.edu.cn>\r\nTo: contact@scgxhq.test\r\n" + headers +
           b"Date: Mon, 08 Jul 2024 10:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8"
           b"\r\n\r\n\xe6\xb4\xbb\xe5\x8a\xa8\xe6\x96\xb9\xe6\xa1\x88\r\n")
    it = process(db.connect(cfg.storage.database_url), build_desk(cfg, send_receipts=True), raw,
                 "test")
    assert it.message.status == "accepted", it.message.status_reason
    assert it.message.receipt is not None


# ------------------------------------------------------------------ big inputs (slow)
@pytest.mark.slow
def test_ten_thousand_parts(tmp_path, monkeypatch):
    path = mh.write_many_parts(tmp_path / "many.eml")
    run = Imported(tmp_path, monkeypatch, path=path, measure=True)
    assert run.row["status"] == "accepted"
    assert len(run.row["attachments"]) >= 2500
    assert run.seconds < 120 and run.peak_mb < MAX_RSS_MB, (run.seconds, run.peak_mb)


@pytest.mark.slow
def test_thousand_deep_nesting(tmp_path, monkeypatch):
    path = mh.write_deep_nesting(tmp_path / "deep.eml")
    run = Imported(tmp_path, monkeypatch, path=path, measure=True)
    assert run.row["status"] == "accepted" and run.row["school"] == "四川大学"
    assert run.seconds < 60 and run.peak_mb < MAX_RSS_MB, (run.seconds, run.peak_mb)


@pytest.mark.slow
def test_zip_bombs_are_never_expanded(tmp_path, monkeypatch):
    path = mh.write_zip_bombs(tmp_path / "bombs.eml")
    assert path.stat().st_size < 2 << 20  # 200 MB, 20 GB and 60 MB of XML, compressed
    run = Imported(tmp_path, monkeypatch, path=path, measure=True)
    assert run.row["status"] in ("accepted", "needs_school")
    assert {a["filename"] for a in run.row["attachments"]} == {"活动方案.zip", "新闻图片.zip",
                                                                "活动方案.docx"}
    assert run.peak_mb < MAX_RSS_MB, run.peak_mb
    assert run.seconds < 60, run.seconds
    stored = sum(p.stat().st_size for p in (run.data / "files").rglob("*") if p.is_file())
    assert stored < 2 << 20  # filed as received, never unpacked


@pytest.mark.slow
def test_two_hundred_megabyte_message(tmp_path, monkeypatch):
    path = mh.write_huge_message(tmp_path / "huge.eml", 200)
    assert path.stat().st_size >= 200 << 20
    run = Imported(tmp_path, monkeypatch, path=path, measure=True)
    assert run.row["status"] == "quarantined"
    assert "邮件过大" in run.row["status_reason"]
    assert "message too large" in run.row["status_reason"]
    assert run.peak_mb < MAX_RSS_MB and run.seconds < 60, (run.peak_mb, run.seconds)
