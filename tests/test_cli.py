"""The command line as a user meets it: import, listing contract, config errors."""

from __future__ import annotations

import email
import json
from pathlib import Path

import pytest
from conftest import ROOT, run_cli, write_config

CORPUS = ROOT.parent / "shared" / "corpus-outside"
CONTRACT = {"id", "message_id", "sender", "subject", "received_at", "school", "district",
            "kinds", "status", "late", "attachments", "links", "plan_missing", "receipt"}


def corpus_files() -> list[Path]:
    return sorted(CORPUS / name for name in _manifest())


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus-outside not beside the repo")
def test_outside_corpus_imports_whole_and_reimport_records_nothing(db_url, tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data", db_url)
    files = corpus_files()
    first = run_cli("import", *map(str, files), config=cfg)
    assert "新登记" in first.stdout
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    sources = {r["source"].split(":", 1)[1].split("#", 1)[0] for r in rows}
    missing = [f for f in files if str(f) not in sources]
    assert missing == [] or all(_same_as_another(f, files) for f in missing)
    for r in rows:
        assert CONTRACT <= r.keys()
        if r["status"] == "quarantined":
            assert r["status_reason"]
    manifest = _manifest()
    for r in rows:
        path = r["source"].split(":", 1)[1].split("#", 1)[0]
        if manifest.get(Path(path).relative_to(CORPUS).as_posix()) == "bounce":
            assert r["status"] == "ignored", (path, r["status"])
    again = run_cli("import", *map(str, files), config=cfg)
    assert "新登记 0 封" in again.stdout
    assert len(json.loads(run_cli("submissions", "--json", config=cfg).stdout)) == len(rows)


def _same_as_another(f: Path, files: list[Path]) -> bool:
    """A file not listed under its own name must be the same mail as another one:
    equal once line ends and delivery trace fields (Received, Return-Path) are set aside."""
    def norm(p: Path) -> bytes:
        msg = email.message_from_bytes(p.read_bytes().replace(b"\r\n", b"\n"))
        for name in ("Received", "Return-Path", "Delivered-To"):
            del msg[name]
        return msg.as_bytes()
    return any(o != f and norm(o) == norm(f) for o in files)


def _manifest() -> dict[str, str]:
    lines = (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {cols[0]: cols[4] for cols in (line.split("\t") for line in lines)}


def test_import_eml_fixtures_lists_contract(tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    fixtures = sorted((ROOT / "tests" / "data").glob("*.eml"))
    assert fixtures, "tests/data has .eml fixtures"
    run_cli("import", *map(str, fixtures), config=cfg)
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert len(rows) >= len(fixtures) - 1
    for r in rows:
        assert CONTRACT <= r.keys()
        assert r["receipt"] is None and isinstance(r["kinds"], list)
        for a in r["attachments"]:
            stored = tmp_path / "data" / a["path"]
            assert stored.is_file() and stored.stat().st_size == a["size"]
            assert (tmp_path / "data") in stored.resolve().parents
    human = run_cli("submissions", config=cfg).stdout
    assert f"共 {len(rows)} 封邮件" in human


def test_an_outlook_meeting_request_is_filed_as_an_ics_file(tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    run_cli("import", str(ROOT / "tests" / "data" / "outlook_meeting_request.eml"), config=cfg)
    (row,) = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    (att,) = row["attachments"]
    assert (att["filename"], att["content_type"]) == ("邀请.ics", "text/calendar")
    assert att["path"].endswith(".ics")
    assert (tmp_path / "data" / att["path"]).read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert "邀请.ics" in run_cli("submissions", config=cfg).stdout


def test_check_config_reports_every_problem_at_once(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("""
[mailbox]
port = "993"
security = "ssl"
password = "hunter2"
processed_action = "delete"
max_message_mb = 0

[receipts]
per_hour = -1

[campaign]
timezone = "Mars/Olympus"
starts = 2024-10-01
ends = 2024-06-01

[[districts]]
name = "川南片区"
lead_school = "四川轻化工大学"

[[districts]]
name = "川西片区"
lead_school = "四川轻化工大学"

[[campaign.phases]]
kind = "poster"
opens = "2024-13-01"

[[campaign.phases]]
kind = "plan"
due = 2024-06-30T18:00:00
""", encoding="utf-8")
    proc = run_cli("check-config", config=bad, check=False)
    assert proc.returncode == 2
    err = proc.stderr
    for key in ("mailbox.host", "mailbox.username", "mailbox.port", "mailbox.security",
                "mailbox.password", "mailbox.processed_action", "campaign.timezone",
                "campaign.phases[0].kind", "campaign.phases[0].opens", "campaign.phases[1].due",
                "mailbox.max_message_mb", "campaign.ends", "districts", "receipts.per_hour"):
        assert f"{bad}: {key}:" in err, key
    assert f"{bad}: receipts.per_day:" not in err  # the wrong one is per_hour
    assert "只写日期，如 2024-06-30" in err and "组长单位重复：四川轻化工大学" in err
    assert "Traceback" not in err


def test_example_config_is_valid(tmp_path):
    proc = run_cli("check-config", config=ROOT / "config.example.toml",
                   env={"MAILBOT_DATA_DIR": str(tmp_path)})
    assert "配置正确" in proc.stdout and "8 个片区" in proc.stdout


@pytest.mark.postgres
def test_check_config_opens_the_database(tmp_path, pg_url):
    """check-config said 配置正确 for a database it could not open (PostgreSQL down, a
    driver not installed): it opens it now, names the variable the URL came from, and
    shows the database it checked (password hidden)."""
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    ok = run_cli("check-config", config=cfg)
    assert "配置正确" in ok.stdout and f"数据库 sqlite:///{tmp_path / 'db.sqlite3'}" in ok.stdout
    shown = run_cli("check-config", config=cfg, env={"MAILBOT_DATABASE_URL": pg_url})
    assert "配置正确" in shown.stdout and "数据库 postgresql" in shown.stdout
    for url in ("postgresql+psycopg://postgres:secret@127.0.0.1:1/test",
                "postgresql+psycopg2://postgres@127.0.0.1/test"):
        proc = run_cli("check-config", config=cfg, env={"MAILBOT_DATABASE_URL": url}, check=False)
        assert proc.returncode == 2 and "配置正确" not in proc.stdout, url
        assert "MAILBOT_DATABASE_URL" in proc.stderr and "Traceback" not in proc.stderr, url
        assert "secret" not in proc.stdout


def test_missing_config_and_unreachable_server_are_one_sentence(tmp_path):
    proc = run_cli("submissions", config=tmp_path / "nope.toml", check=False)
    assert proc.returncode == 2 and "找不到配置文件" in proc.stderr
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    proc = run_cli("poll", "--once", config=cfg, env={"MAILBOT_IMAP_PASSWORD": "x"}, check=False)
    assert proc.returncode == 1
    assert "无法连接 IMAP 服务器 localhost:1" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("import", str(tmp_path / "missing.eml"), config=cfg, check=False)
    assert proc.returncode == 1 and "找不到" in proc.stderr


def test_a_data_dir_inside_a_file_is_a_config_error(tmp_path):
    """data_dir = "/etc/passwd/data" can never be made: check-config says so, naming the
    path, the file in its way and where the setting came from."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data", "")
    cfg.write_text(cfg.read_text("utf-8").replace(str(tmp_path / "data"), str(afile / "data")),
                   "utf-8")
    proc = run_cli("check-config", config=cfg, check=False)
    assert proc.returncode == 2 and "storage.data_dir" in proc.stderr
    assert f"数据目录 {afile / 'data'} 无法使用：路径中的 {afile} 是一个文件" in proc.stderr
    proc = run_cli("check-config", config=cfg, env={"MAILBOT_DATA_DIR": str(afile)}, check=False)
    assert proc.returncode == 2 and "环境变量 MAILBOT_DATA_DIR" in proc.stderr
    assert f"数据目录 {afile} 无法使用：它是一个文件" in proc.stderr


def test_a_mistyped_data_dir_is_refused_never_created(tmp_path):
    """MAILBOT_DATA_DIR naming a folder that does not exist (a typo) would bring a new,
    empty database and a poll recording the whole mailbox again: every command refuses
    it, saying what to do, and creates nothing; check-config reports it."""
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data", "")
    typo = tmp_path / "dta"
    env = {"MAILBOT_DATA_DIR": str(typo), "MAILBOT_IMAP_PASSWORD": "x"}
    roster = tmp_path / "名单.csv"
    roster.write_text("学校,片区\n西华大学,成都第四片区\n", encoding="utf-8")
    mail = min((ROOT / "tests" / "data").glob("*.eml"))
    for args in (("poll", "--once"), ("status",), ("import", str(mail)),
                 ("schools", "import", str(roster))):
        proc = run_cli(*args, config=cfg, env=env, check=False)
        assert proc.returncode == 1, args
        assert f"数据目录 {typo} 不存在（环境变量 MAILBOT_DATA_DIR）" in proc.stderr
        assert f"mkdir -p {typo}" in proc.stderr and "Traceback" not in proc.stderr
        assert not typo.exists()
    proc = run_cli("check-config", config=cfg, env=env, check=False)
    assert proc.returncode == 2 and f"数据目录 {typo} 不存在" in proc.stderr
    (tmp_path / "data").rmdir()
    proc = run_cli("submissions", config=cfg, check=False)
    assert proc.returncode == 1 and f"{cfg} 中的 storage.data_dir" in proc.stderr


def test_a_bad_database_url_in_the_environment_is_blamed_on_it_not_on_the_file(tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data", "")
    proc = run_cli("check-config", config=cfg, env={"MAILBOT_DATABASE_URL": "mysql://u@h/db"},
                   check=False)
    assert proc.returncode == 2 and "环境变量 MAILBOT_DATABASE_URL" in proc.stderr
    assert "storage.database_url" not in proc.stderr
    proc = run_cli("status", config=cfg, check=False,
                   env={"MAILBOT_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/db"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("mailbot: 环境变量 MAILBOT_DATABASE_URL（优先于配置文件）: 无法连接数据库")


def test_json_log_lines(tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    fixture = min((ROOT / "tests" / "data").glob("*.eml"))
    proc = run_cli("--log-format", "json", "-v", "import", str(fixture), config=cfg)
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= entry.keys() for entry in lines)
    assert any(e["logger"] == "mailbot.pipeline" and "status=" in e["message"] for e in lines)


def test_the_secretariat_reads_chinese_and_bad_ids_or_paths_are_one_sentence(tmp_path):
    """status counts in words, not a Python dict; an id that is not there (or too large for
    the database) and a path that cannot be written are one sentence and a failing exit,
    never a traceback nor a silent "0 changed"."""
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    run_cli("import", str(ROOT / "tests/data/garbage_headers_no_from.eml"),
            str(ROOT / "tests/data/netease163_gbk_subject.eml"), config=cfg)
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    status = run_cli("status", config=cfg).stdout
    assert "邮件：" in status and "{" not in status and "发件箱：无" in status
    assert f"已隔离 {sum(r['status'] == 'quarantined' for r in rows)} 封" in status
    nameless = next(r for r in rows if not r["sender"])
    assert "<None>" not in run_cli("explain", str(nameless["id"]), config=cfg).stdout
    for args in (("explain", "99999999999999999999"), ("reclassify", "999"),
                 ("quarantine", "reprocess", "999"),
                 ("export", "--xlsx", str(tmp_path / "nowhere" / "x.xlsx"))):
        proc = run_cli(*args, config=cfg, check=False)
        assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, args
        assert any(word in proc.stderr for word in ("没有编号为 999", "不存在", "range")), \
            (args, proc.stderr)
    assert "nowhere/x.xlsx（不存在）" in run_cli("export", "--xlsx", str(tmp_path / "nowhere" / "x.xlsx"),
                                              config=cfg, check=False).stderr


def test_status_marks_a_plan_still_lacking_items_until_one_is_complete(tmp_path):
    """A plan whose receipt asked for missing items was ✓ like a complete one: `status`
    shows △ with its legend, and --json gives plan_incomplete beside an unchanged plan,
    until any accepted plan of the school lacks nothing."""
    from email.message import EmailMessage
    full = ("一、活动背景：校史馆\n二、活动组织：后勤党委\n三、活动时间：2024年7月5日14:30\n"
            "四、活动地点：校史馆\n五、活动流程：参观\n六、活动联系人及电话：王老师 028-85401236")
    part = "一、活动背景：校史馆\n二、活动组织：后勤党委\n四、活动地点：校史馆"
    mails = [("houqin@scu.edu.cn", "四川大学", part), ("houqin@sicnu.edu.cn", "四川师范大学", part),
             ("houqin@sicnu.edu.cn", "四川师范大学", full),
             ("hq_dangzhibu@yibinu.edu.cn", "宜宾学院", full)]
    for i, (sender, school, body) in enumerate(mails):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = sender, "contact@scgxhq.test", f"{school}后勤活动方案"
        m["Message-ID"], m["Date"] = f"<plan{i}@x>", f"Tue, 0{i + 2} Jul 2024 10:00:00 +0800"
        m.set_content(f"{body}\n{school}后勤")
        (tmp_path / f"{i}.eml").write_bytes(m.as_bytes())
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    run_cli("import", *(str(tmp_path / f"{i}.eml") for i in range(len(mails))), config=cfg)
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert [bool(r["plan_missing"]) for r in rows] == [True, True, False, False]
    grid = {d["school"]: d for d in json.loads(run_cli("status", "--json", config=cfg).stdout)
            ["districts"]}
    assert {s: (grid[s]["plan"], grid[s]["plan_incomplete"]) for s in ("四川大学", "四川师范大学",
                                                                       "宜宾学院")} == {
        "四川大学": (True, True), "四川师范大学": (True, False), "宜宾学院": (True, False)}
    table = run_cli("status", config=cfg).stdout.splitlines()
    line = {s: next(ln for ln in table if s in ln) for s in ("四川大学", "四川师范大学")}
    assert "△" in line["四川大学"] and "✓" not in line["四川大学"]
    assert "✓" in line["四川师范大学"] and "△" not in line["四川师范大学"]
    assert any(ln.startswith("△ 方案待补：") for ln in table)


def test_check_config_reads_the_rules_and_their_districts(tmp_path):
    """A district renamed in the config only (成都一片区) would lose its schools and be told
    nothing is missing: check-config says so; a rules file it cannot read fails it too;
    districts without an address get a reminder."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(text.replace('name = "成都第一片区"', 'name = "成都一片区"'), encoding="utf-8")
    (tmp_path / "data").mkdir()
    env = {"MAILBOT_DATA_DIR": str(tmp_path / "data")}
    proc = run_cli("check-config", config=renamed, env=env, check=False)
    assert proc.returncode == 2 and "片区“成都一片区”不在" in proc.stderr
    other = tmp_path / "other.toml"
    other.write_text(text.replace('lead_school = "四川师范大学"', 'lead_school = "西南财经大学"'),
                     encoding="utf-8")
    proc = run_cli("check-config", config=other, env=env, check=False)
    assert proc.returncode == 2 and "组长单位为“四川师范大学”" in proc.stderr
    rules = tmp_path / "rules"
    rules.mkdir()
    for f in (ROOT / "rules").glob("*.toml"):
        if f.name != "roster.toml":
            (rules / f.name).write_bytes(f.read_bytes())
    (rules / "kinds.toml").write_text("[plan\n", encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text + f'\n[rules]\ndir = "{rules}"\n', encoding="utf-8")
    proc = run_cli("check-config", config=broken, env=env, check=False)
    assert proc.returncode == 2 and "kinds.toml" in proc.stderr and "TOML 语法错误" in proc.stderr
    ok = run_cli("check-config", config=ROOT / "config.example.toml", env=env).stdout
    assert "提醒：片区“成都第一片区”没有 email" in ok
