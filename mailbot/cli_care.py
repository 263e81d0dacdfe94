"""Command line, upkeep: check-config, quarantine, retention, verify (registered by
:mod:`mailbot.cli`)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import click

from .filing import FileStore
from .report import STATUS_ZH, retention_text

# As in mailbot.cli, each command imports the rest of what it needs when it runs.

MESSAGE_ID = click.IntRange(1, 2**63 - 1)  # a message's number (also mailbot.cli's): a
# larger one would overflow the database's integer, a traceback instead of "no such message"


@click.command("check-config")
@click.pass_obj
def check_config(obj) -> None:
    """Validate the config file and the rules it uses, reporting every problem at once."""
    from sqlalchemy.engine import make_url

    from . import config as config_mod
    from .classify.engine import load_rulebook
    from .errors import ConfigError, StorageError
    cfg = obj.cfg
    directory = load_rulebook(cfg.rules_dir, config_mod.roster_file(cfg)).directory  # all its problems
    known, rules = directory.districts, cfg.rules_dir / "schools.toml"
    problems = [f"{cfg.path}: districts: 片区“{d.name}”不在 {rules} 中（应为 {'、'.join(known)} "
                f"之一）(unknown district)" for d in cfg.districts if d.name not in known]
    problems += [f"{cfg.path}: districts: 片区“{d.name}”的 lead_school 是“{d.lead_school}”，而 {rules} "
                 f"中该片区的组长单位为“{directory.leads[d.name]}” (lead school differs)"
                 for d in cfg.districts
                 if d.name in known and d.lead_school and d.lead_school != directory.leads[d.name]]
    problems += [p for p in [config_mod.missing_data_dir(cfg)] if p]
    if not problems:  # the database opens (schema created or upgraded, as any command does)
        try:
            obj.engine().dispose()
        except StorageError as e:  # unreachable, no driver, another data dir's...
            problems.append(str(e))
    if problems:  # a renamed district would lose its schools and be told nothing is missing
        raise ConfigError(problems)
    click.echo(f"配置正确 (config OK): {cfg.path}")
    click.echo(f"  邮箱 {cfg.mailbox.username} @ {cfg.mailbox.host}:{cfg.mailbox.port} "
               f"({cfg.mailbox.security})，文件夹 {', '.join(cfg.mailbox.folders)}")
    click.echo(f"  数据目录 {cfg.storage.data_dir}，数据库 "
               f"{make_url(cfg.storage.database_url).render_as_string(hide_password=True)}")
    click.echo(f"  活动 {cfg.campaign.name}，{len(cfg.districts)} 个片区")
    r = cfg.retention
    click.echo("  保留期限（天，0 = 永久）：" + "，".join(f"{k} {getattr(r, k)}"
                                                 for k in r.__dataclass_fields__))
    names = {d.name for d in cfg.districts}
    for d in cfg.districts:
        if not d.email:
            click.echo(f"  提醒：片区“{d.name}”没有 email，它的汇总邮件不会发出 (no digest address)")
    for name in known:
        if name not in names:
            click.echo(f"  提醒：规则中的片区“{name}”不在配置 [[districts]] 中，不会收到汇总 (not configured)")
    for var in ("MAILBOT_IMAP_PASSWORD", "MAILBOT_SMTP_PASSWORD"):
        if not config_mod.secret(var):
            click.echo(f"  提醒：环境变量 {var} 未设置 (not set)")


@click.group()
def quarantine() -> None:
    """Quarantined mail: list, release (file it after all), reprocess."""


@quarantine.command("list")
@click.pass_obj
def quarantine_list(obj) -> None:
    """List quarantined mail with the reason (列出已隔离的邮件及原因)."""
    from .reclassify import quarantined as quarantined_messages
    rows = quarantined_messages(obj.engine())
    for m in rows:
        click.echo(f"#{m.id:<4} {m.sender or '(无发件人)'}  {m.subject}\n      原因: {m.status_reason}"
                   + ("\n      原件已按保留期限删除" if m.files_removed_at else ""))
    click.echo(f"共 {len(rows)} 封已隔离")


@quarantine.command("release")
@click.argument("pk", type=MESSAGE_ID)
@click.pass_obj
def quarantine_release(obj, pk: int) -> None:
    """File quarantined mail #PK after all: the secretariat vouches for it (放行)."""
    from .desk import build_desk
    from .reclassify import release as release_message
    m, parts = release_message(obj.engine(), build_desk(obj.cfg, False), pk)
    click.echo(f"#{pk} 已放行：{STATUS_ZH.get(m.status, m.status)}，附件 {len(m.attachments)} 个"
               + (f"，转来的 {parts} 封邮件已逐封登记" if parts else ""))


@quarantine.command("reprocess")
@click.argument("pk", type=MESSAGE_ID)
@click.pass_obj
def quarantine_reprocess(obj, pk: int) -> None:
    """Judge mail #PK again with the current rules (按现行规则重新处理)."""
    from .desk import build_desk
    from .reclassify import reclassify as reclassify_messages
    counts = reclassify_messages(obj.engine(), build_desk(obj.cfg), [pk])
    click.echo(f"#{pk} 重新处理：{'有变化' if counts['changed'] else '无变化'}")


@click.command()
@click.option("--dry-run", is_flag=True, help="Only show what is due; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def retention(obj, dry_run: bool, as_json: bool) -> None:
    """Remove what [retention] says is past keeping (rows stay, files and bodies go)."""
    from . import retention as retention_mod
    cfg = obj.cfg
    plan = retention_mod.run(obj.engine(), FileStore(cfg.storage.data_dir), cfg.retention,
                             dry_run).as_dict()
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, **plan}, ensure_ascii=False, indent=2))
        return
    days = {k: getattr(cfg.retention, k) for k in cfg.retention.__dataclass_fields__}
    click.echo(retention_text(days, plan, dry_run, ZoneInfo(cfg.campaign.timezone)))




@click.command()
@click.option("--repair", is_flag=True, help="Rebuild broken attachments from the originals.")
@click.pass_obj
def verify(obj, repair: bool) -> None:
    """Re-hash every stored file (originals and attachments) against the database."""
    from .verify import verify as verify_files
    cfg = obj.cfg
    found = verify_files(obj.engine(), FileStore(cfg.storage.data_dir), repair)
    for line in found.broken_originals:
        click.echo(f"原件损坏或缺失 (original broken): {line}")
    if found.broken_originals:
        click.echo("  原件只能从副本恢复：mailbot import 该邮件的 .eml（或 mbox、Maildir）")
    for line in found.broken_files:
        click.echo(f"附件损坏或缺失 (attachment broken): {line}")
    for line in found.repaired:
        click.echo(f"已从原件重建 (rebuilt): {line}")
    left = len(found.broken_files) - len(found.repaired) + len(found.broken_originals)
    click.echo(f"检查文件 {found.checked} 个，损坏 {len(found.broken_files) + len(found.broken_originals)} 个，"
               f"已重建 {len(found.repaired)} 个")
    if left:
        raise SystemExit(1)
