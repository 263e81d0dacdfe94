"""Config: TOML -> frozen dataclasses, env overrides, secrets only from env."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import ROOT

from mailbot import config
from mailbot.errors import ConfigError


def test_example_describes_the_2024_campaign(monkeypatch, tmp_path):
    monkeypatch.delenv("MAILBOT_DATA_DIR", raising=False)
    monkeypatch.delenv("MAILBOT_DATABASE_URL", raising=False)
    cfg = config.load(ROOT / "config.example.toml")
    assert len(cfg.districts) == 8
    leads = {d.name: d.lead_school for d in cfg.districts}
    assert leads["成都第一片区"] == "四川师范大学" and leads["川南片区"] == "四川轻化工大学"
    assert {p.kind for p in cfg.campaign.phases} == {"plan", "news", "video"}
    video = next(p for p in cfg.campaign.phases if p.kind == "video")
    assert video.due.isoformat() == "2024-09-30"
    assert cfg.storage.database_url.startswith("sqlite:///")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.mailbox.host = "x"


def test_env_overrides_storage(monkeypatch, tmp_path):
    monkeypatch.setenv("MAILBOT_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("MAILBOT_DATABASE_URL", "postgresql+psycopg://u@h/db")
    cfg = config.load(ROOT / "config.example.toml")
    assert cfg.storage.data_dir == tmp_path / "d"
    assert cfg.storage.database_url == "postgresql+psycopg://u@h/db"


def test_password_in_file_is_refused(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[mailbox]\nhost="h"\nusername="u"\npassword="x"\n[smtp]\npasswd="y"\n',
                 encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        config.load(p)
    assert len(e.value.problems) == 2
    assert all("环境变量" in m for m in e.value.problems)


@pytest.mark.parametrize("prefix", ["SC-", "接力", "JLX 2026"])
def test_a_receipt_prefix_a_reply_could_not_be_matched_by_is_refused(tmp_path, prefix):
    """Replies are matched by the number in their subject ("[回执 JLX2026-0001]"), read as
    letters then the year: any other prefix would leave every reply unrecognised."""
    p = tmp_path / "c.toml"
    p.write_text(f'[mailbox]\nhost="h"\nusername="u"\n[receipts]\nprefix="{prefix}"\n',
                 encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        config.load(p)
    assert any("receipts.prefix" in m and "英文字母" in m for m in e.value.problems)


def test_toml_syntax_error_names_the_file(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[mailbox\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML 语法错误"):
        config.load(p)


def test_provider_preset_fills_hosts_and_check_config_says_what_is_missing(tmp_path):
    p = tmp_path / "qq.toml"
    p.write_text('[mailbox]\nprovider = "qq"\nusername = "344523819@qq.com"\n', encoding="utf-8")
    cfg = config.load(p)
    assert (cfg.mailbox.host, cfg.mailbox.port, cfg.mailbox.security) == ("imap.qq.com", 993, "tls")
    assert (cfg.smtp.host, cfg.smtp.port, cfg.smtp.from_address) == ("smtp.qq.com", 465,
                                                                      "344523819@qq.com")
    p.write_text('[mailbox]\nprovider = "coremail"\nusername = "a@b.edu.cn"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        config.load(p)
    assert any("mailbox.host" in m for m in e.value.problems)


def test_addresses_mail_is_sent_to_are_checked(tmp_path):
    """A leader's address typed with a name or a blank after it would go out as a
    non-ASCII recipient no server takes: check-config says so, for every such address."""
    p = tmp_path / "c.toml"
    p.write_text('[mailbox]\nprovider = "qq"\nusername = "344523819@qq.com"\n'
                 '[secretariat]\nemail = "秘书处 <mishuchu@scgxhq.cn>"\n'
                 '[digest]\ncc = ["ok@scu.edu.cn", "hqc@cdu.edu.cn（张老师）"]\n'
                 '[[districts]]\nname = "成都第一片区"\nemail = "houqin@sicnu.edu.cn 张老师"\n'
                 '[[districts]]\nname = "川南片区"\nemail = "houqin@suse.edu.cn\u3000"\n'
                 '[[districts]]\nname = "川北片区"\nemail = "王老师 <hq@cwnu.edu.cn>"\n',
                 encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        config.load(p)
    bad = [m for m in e.value.problems if "邮箱地址" in m]
    assert [m.split(": ")[1] for m in bad] == ["districts[0].email", "districts[1].email",
                                                "digest.cc"], bad
    assert "houqin@sicnu.edu.cn 张老师" in bad[0] and "name@example.edu.cn" in bad[0]


def test_a_phase_written_as_a_single_table_is_one_clear_error(tmp_path):
    """[campaign.phases] instead of [[campaign.phases]]: said in one sentence, no traceback."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert "[[campaign.phases]]" in text
    first = text.index("[[campaign.phases]]")
    single = text[:first] + "[campaign.phases]" + text[first + len("[[campaign.phases]]"):]
    single = single.replace("[[campaign.phases]]", "[[campaign.extra]]")  # reported apart
    p = tmp_path / "c.toml"
    p.write_text(single, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        config.load(p)
    assert "campaign.phases" in str(e.value) and "[[campaign.phases]]" in str(e.value)
