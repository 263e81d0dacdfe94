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
