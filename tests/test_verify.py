"""verify: every stored file re-hashed; broken attachments rebuilt from the fsynced original."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import run_cli, write_config

LABELLED = Path(__file__).resolve().parent / "data" / "labelled"


def _setup(tmp_path, db_url):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data", db_url)
    mails = [LABELLED / n for n in ("02_swjtu_plan_docx_gb2312_zhe.eml",
                                    "04_lsnu_plan_pdf_thunderbird.eml",
                                    "05_yibinu_plan_wps_rfc2231.eml")]
    run_cli("import", *map(str, mails), config=cfg)
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    return cfg, tmp_path / "data", rows


def test_a_clean_store_verifies(tmp_path, db_url):
    cfg, _, rows = _setup(tmp_path, db_url)
    out = run_cli("verify", config=cfg).stdout
    files = len(rows) + sum(len(r["attachments"]) for r in rows)
    assert f"检查文件 {files} 个，损坏 0 个" in out


def test_truncated_and_missing_attachments_are_found_and_rebuilt(tmp_path, db_url):
    cfg, data, rows = _setup(tmp_path, db_url)
    first, second = [a for r in rows for a in r["attachments"]][:2]
    (data / first["path"]).write_bytes((data / first["path"]).read_bytes()[:100])
    (data / second["path"]).unlink()
    proc = run_cli("verify", config=cfg, check=False)
    assert proc.returncode == 1
    assert first["path"] in proc.stdout and second["path"] in proc.stdout
    assert "损坏 2 个" in proc.stdout
    assert "已重建 2 个" in run_cli("verify", "--repair", config=cfg).stdout
    for a in (first, second):
        assert hashlib.sha256((data / a["path"]).read_bytes()).hexdigest() == a["sha256"]
    assert "损坏 0 个" in run_cli("verify", config=cfg).stdout


def test_a_broken_original_is_reported_and_not_papered_over(tmp_path, db_url):
    cfg, data, rows = _setup(tmp_path, db_url)
    row = next(r for r in rows if r["attachments"])
    (data / row["raw_path"]).write_bytes(b"")
    (data / row["attachments"][0]["path"]).unlink()
    proc = run_cli("verify", "--repair", config=cfg, check=False)
    assert proc.returncode == 1
    assert f"原件损坏或缺失 (original broken): #{row['id']}" in proc.stdout
    assert "已重建 0 个" in proc.stdout


def test_importing_the_mail_again_restores_a_missing_or_broken_original(tmp_path, db_url):
    """The duplicate check finds the row of a mail whose original is gone: import puts the
    original back (its sha256 checked) and says so instead of "duplicate"."""
    cfg, data, rows = _setup(tmp_path, db_url)
    first, second = rows[0], rows[1]
    (data / first["raw_path"]).unlink()
    (data / second["raw_path"]).write_bytes(b"truncated")
    files = [LABELLED / n for n in ("02_swjtu_plan_docx_gb2312_zhe.eml",
                                    "04_lsnu_plan_pdf_thunderbird.eml")]
    out = run_cli("import", *map(str, files), config=cfg).stdout
    assert "新登记 0 封，重复 0 封，已恢复原件 2 封" in out
    assert f"已恢复原件 #{first['id']} {first['raw_path']}" in out
    for row in (first, second):  # raw/ab/<sha256>.eml
        stored = data / row["raw_path"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == stored.stem
    assert "损坏 0 个" in run_cli("verify", config=cfg).stdout
    assert "重复 2 封" in run_cli("import", *map(str, files), config=cfg).stdout


def test_a_copy_that_is_not_the_very_original_is_not_restored_from(tmp_path, db_url):
    """The same mail delivered again (another Received line) is a duplicate, but not the
    recorded bytes: the missing original is not replaced by it, and import says why."""
    cfg, data, rows = _setup(tmp_path, db_url)
    row = rows[0]
    original = (data / row["raw_path"]).read_bytes()
    again = tmp_path / "again.eml"
    again.write_bytes(b"Received: from relay.example (relay.example [192.0.2.1])\r\n" + original)
    assert "重复 1 封" in run_cli("import", str(again), config=cfg).stdout
    (data / row["raw_path"]).unlink()
    out = run_cli("import", str(again), config=cfg).stdout
    assert f"#{row['id']} 的原件 {row['raw_path']} 缺失或损坏" in out and "sha256 不符" in out
    assert not (data / row["raw_path"]).exists()
