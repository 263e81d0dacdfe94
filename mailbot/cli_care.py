"""Command line, upkeep: quarantine, retention, verify (registered by :mod:`mailbot.cli`)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import click

from .filing import FileStore
from .report import STATUS_ZH, retention_text

# As in mailbot.cli, each command imports the rest of what it needs when it runs.

MESSAGE_ID = click.IntRange(1, 2**63 - 1)  # a message's number (also mailbot.cli's): a
# larger one would overflow the database's integer, a traceback instead of "no such message"


@click.group()
def quarantine() -> None:
    """Quarantined mail: list, release (file it after all), reprocess."""


@quarantine.command("list")
@click.pass_obj
def quarantine_list(obj) -> None:
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
    from .desk import build_desk
    from .reclassify import release as release_message
    m, parts = release_message(obj.engine(), build_desk(obj.cfg, False), pk)
    click.echo(f"#{pk} 已放行：{STATUS_ZH.get(m.status, m.status)}，附件 {len(m.attachments)} 个"
               + (f"，转来的 {parts} 封邮件已逐封登记" if parts else ""))


@quarantine.command("reprocess")
@click.argument("pk", type=MESSAGE_ID)
@click.pass_obj
def quarantine_reprocess(obj, pk: int) -> None:
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
    for line in found.broken_files:
        click.echo(f"附件损坏或缺失 (attachment broken): {line}")
    for line in found.repaired:
        click.echo(f"已从原件重建 (rebuilt): {line}")
    left = len(found.broken_files) - len(found.repaired) + len(found.broken_originals)
    click.echo(f"检查文件 {found.checked} 个，损坏 {len(found.broken_files) + len(found.broken_originals)} 个，"
               f"已重建 {len(found.repaired)} 个")
    if left:
        raise SystemExit(1)
