"""Command line: ``mailbot [--config PATH] COMMAND``.

Every error a user can cause (bad config, unreachable server, missing file)
is printed as one clear sentence and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from . import cli_care, cli_status, db, logs
from . import config as config_mod
from .cli_care import MESSAGE_ID
from .errors import ConfigError, MailbotError, StorageError, file_problem
from .pairing import same_store
from .report import OUTBOX_ZH, STATUS_ZH, explanation, submission, table

# Each command imports the rest of what it needs when it runs: a listing needs the
# database, not the parser, the IMAP client, jinja2 or the scheduler (half a second of
# start-up on a slow machine, paid by every command).


class _Obj:
    def __init__(self, path: str | None):
        self.path = path
        self._cfg = None

    @property
    def cfg(self) -> config_mod.Config:
        if self._cfg is None:
            self._cfg = config_mod.load(self.path)
        return self._cfg

    def engine(self):
        if problem := config_mod.missing_data_dir(self.cfg):
            raise StorageError(problem)
        try:
            engine = db.connect(self.cfg.storage.database_url)
            same_store(engine, self.cfg.storage.data_dir, remember=False)
            return engine
        except StorageError as e:  # the URL may not be the config file's
            if not os.environ.get("MAILBOT_DATABASE_URL"):
                raise
            raise StorageError(f"环境变量 MAILBOT_DATABASE_URL（优先于配置文件）: {e}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="配置文件 (default: $MAILBOT_CONFIG or ./config.toml)")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              help="Log lines as text or as JSON objects.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool, log_format: str) -> None:
    """mailbot: 联系邮箱收件登记 — poll, classify, file and acknowledge submissions."""
    logs.setup(verbose or ctx.invoked_subcommand == "run", log_format)
    ctx.obj = _Obj(config_path)


@cli.command()
@click.option("--once", is_flag=True, required=True, help="Poll once and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option("--no-send", is_flag=True,
              help="Queue receipts but do not send them (see them with `outbox`; "
                   "`outbox flush` sends them).")
@click.pass_obj
def poll(obj: _Obj, once: bool, as_json: bool, no_send: bool) -> None:
    """Fetch new mail from the contact mailbox (IMAP) and record it."""
    from .desk import build_desk
    from .poll import poll_and_record
    rep = poll_and_record(obj.cfg, obj.engine(), build_desk(obj.cfg), send=not no_send)
    if as_json:
        d = rep.delivery
        click.echo(json.dumps({"fetched": rep.fetched, "recorded": rep.recorded,
                               "duplicates": rep.duplicates, "by_status": rep.by_status,
                               "prepared": rep.prepared, "parts": rep.parts,
                               "sent": d.sent if d else 0, "problems": rep.problems},
                              ensure_ascii=False))
    else:
        by = "，".join(f"{STATUS_ZH.get(k, k)} {v}" for k, v in sorted(rep.by_status.items()))
        click.echo(f"收取 {rep.fetched} 封，新登记 {rep.recorded} 封，重复 {rep.duplicates} 封"
                   + (f"（{by}）" if by else "") + _parts(rep.parts))
        _echo_delivery(rep.delivery)
    for problem in rep.problems:  # a folder the server refused: the config needs fixing
        click.echo(f"文件夹问题：{problem}", err=True)
    if rep.problems:
        raise SystemExit(1)


def _restore_note(m, done: str, source: str) -> str:
    if done == "restored":
        return f"已恢复原件 #{m.id} {m.raw_path}（取自 {source}）"
    return (f"#{m.id} 的原件 {m.raw_path} 缺失或损坏，但 {source} 与登记的原件并非逐字节相同"
            "（sha256 不符），未恢复")


def _parts(count: int) -> str:
    return f"；汇总邮件转来的 {count} 封已逐封登记" if count else ""


def _echo_delivery(d) -> None:
    if d and (d.sent or d.deferred or d.failed or d.unconfirmed):
        click.echo(f"发出 {d.sent} 封，待重试 {d.deferred} 封，失败 {d.failed} 封"
                   + (f"，未确认 {d.unconfirmed} 封" if d.unconfirmed else ""))
    for err in (d.errors if d else [])[:3]:
        click.echo(f"  发信问题：{err}", err=True)


@cli.command()
@click.pass_obj
def run(obj: _Obj) -> None:
    """Run the daemon: poll, send receipts, (digests) on schedule, until SIGTERM."""
    from .jobs import Daemon
    Daemon(obj.cfg, obj.engine()).run()
    click.echo("mailbot 已停止 (stopped)")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--send-receipts", is_flag=True, help="Also send receipts (default: send nothing).")
@click.pass_obj
def import_(obj: _Obj, paths: tuple[Path, ...], send_receipts: bool) -> None:
    """Record mail from .eml files, mbox files or Maildir folders (sends no mail)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from . import outbox as outbox_mod
    from .desk import build_desk
    from .pipeline import process
    from .sources import iter_messages
    from .verify import restore_original
    engine, desk = obj.engine(), build_desk(obj.cfg, send_receipts)
    seen = new = parts = 0
    restored, notes = 0, []  # said after the progress bar
    counts: dict[str, int] = {}
    with Progress(TextColumn("导入 {task.completed} 封"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=None)
        limit = obj.cfg.mailbox.max_message_mb * 2**20
        skipped: list[Path] = []
        for raw, source, oversize in iter_messages(list(paths), limit, skipped):  # reruns skip recorded
            it = process(engine, desk, raw, source, oversize=oversize)
            seen += 1
            if not it.created and (done := restore_original(desk.store, it.message, raw)):
                restored += done == "restored"
                notes.append(_restore_note(it.message, done, source))
            new += it.created
            parts += it.parts_recorded()
            counts[it.message.status] = counts.get(it.message.status, 0) + 1
            bar.advance(task)
    by = "，".join(f"{STATUS_ZH.get(k, k)} {v}" for k, v in sorted(counts.items()))
    click.echo(f"读取 {seen} 封，新登记 {new} 封，重复 {seen - new - restored} 封"
               + (f"，已恢复原件 {restored} 封" if restored else "")
               + (f"（{by}）" if by else "") + _parts(parts))
    for line in notes:
        click.echo(line)
    if skipped:
        click.echo(f"跳过 {len(skipped)} 个不是邮件的文件：" + "、".join(map(str, skipped[:5]))
                   + ("…" if len(skipped) > 5 else ""))
    if send_receipts:
        _echo_delivery(outbox_mod.deliver(engine, obj.cfg))


@cli.group("outbox", invoke_without_command=True)
@click.option("--all", "everything", is_flag=True, help="Include mail already sent.")
@click.pass_context
def outbox_group(ctx: click.Context, everything: bool) -> None:
    """List outgoing mail not yet sent (pending, failed, unconfirmed)."""
    from . import outbox as outbox_mod
    from . import receipts as receipts_mod
    if ctx.invoked_subcommand:
        return
    rows = outbox_mod.listing(ctx.obj.engine(), everything)
    for row in rows:
        click.echo(f"#{row.id:<4} {OUTBOX_ZH.get(row.status, row.status)}  "
                   f"{OUTBOX_ZH.get(row.kind, row.kind)}  {row.recipient}  {row.subject}"
                   + (f"\n      {row.last_error}" if row.last_error else "")
                   + ("\n      正文已按保留期限删除" if row.body_removed_at else ""))
    click.echo(f"共 {len(rows)} 封")
    with db.transaction(ctx.obj.engine()) as s:
        for b in receipts_mod.bouncing(s):
            click.echo(f"退信地址（暂停回执）：{b.address}  {b.reason}")


@outbox_group.command("retry")
@click.argument("pk", type=MESSAGE_ID)
@click.pass_obj
def outbox_retry(obj: _Obj, pk: int) -> None:
    """Queue a failed or unconfirmed mail again and send what is due."""
    from . import outbox as outbox_mod
    engine = obj.engine()
    outbox_mod.retry(engine, pk)
    _echo_delivery(outbox_mod.deliver(engine, obj.cfg))


@outbox_group.command("flush")
@click.pass_obj
def outbox_flush(obj: _Obj) -> None:
    """Send every pending mail now, ignoring retry backoff."""
    from . import outbox as outbox_mod
    _echo_delivery(outbox_mod.deliver(obj.engine(), obj.cfg, ignore_backoff=True))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract.")
@click.pass_obj
def submissions(obj: _Obj, as_json: bool) -> None:
    """List every recorded message."""
    engine = obj.engine()
    tz = ZoneInfo(obj.cfg.campaign.timezone)
    with db.transaction(engine) as s:
        rows = [submission(m, tz) for m in db.submissions(s)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(table(rows))


@cli.command()
@click.argument("message_id", type=MESSAGE_ID)
@click.pass_obj
def explain(obj: _Obj, message_id: int) -> None:
    """Show every classification decision for one message, with its evidence."""
    tz = ZoneInfo(obj.cfg.campaign.timezone)
    with db.transaction(obj.engine()) as s:
        m = db.get_message(s, message_id)
        if m is None:
            raise MailbotError(f"没有编号为 {message_id} 的邮件 (no such message)")
        parts = [submission(p, tz) for p in db.parts(s, message_id)]
        click.echo(explanation(submission(m, tz), parts))


@cli.command()
@click.argument("ids", nargs=-1, type=MESSAGE_ID)
@click.option("--all", "everything", is_flag=True, help="Every message, not only needs_school.")
@click.pass_obj
def reclassify(obj: _Obj, ids: tuple[int, ...], everything: bool) -> None:
    """Re-run the rules (after editing rules/ or the config)."""
    from .desk import build_desk
    from .reclassify import reclassify as reclassify_messages
    counts = reclassify_messages(obj.engine(), build_desk(obj.cfg), list(ids), everything)
    click.echo(f"重新分类：变化 {counts['changed']} 封，不变 {counts['unchanged']} 封"
               + (f"，无法读取 {counts['unreadable']} 封" if counts["unreadable"] else ""))


@cli.group()
def schools() -> None:
    """The school directory (rules/schools.toml) and the secretariat's roster."""


@schools.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def schools_import(obj: _Obj, path: Path) -> None:
    """Load the roster (.xlsx or .csv: 学校, 片区, 联系人, 邮箱) into roster.toml."""
    from .classify.directory import load_directory
    from .classify.roster import missing_districts, read_roster, replaced_entries, write_roster
    directory = load_directory(obj.cfg.rules_dir / "schools.toml")
    rows, problems, sheet = read_roster(path, directory)
    target = config_mod.roster_file(obj.cfg, writing=True)
    if rows and target.parent == obj.cfg.storage.data_dir and \
            (problem := config_mod.missing_data_dir(obj.cfg)):
        raise StorageError(problem)
    if rows:
        before, gone = replaced_entries(config_mod.roster_file(obj.cfg), rows, directory)
        write_roster(rows, target)
        click.echo(f"已导入 {len(rows)} 所学校的名单" + (f"（工作表“{sheet}”）" if sheet else "")
                   + f" -> {target}")
        if before:
            click.echo(f"原名单的 {before} 条已被替换 (previous roster replaced)"
                       + (f"；不再包含 {len(gone)} 所：{'、'.join(gone)}" if gone else ""))
    for problem in problems:
        click.echo(f"  未采用：{problem}")
    if not rows:
        raise MailbotError(f"没有可导入的行 (nothing imported)：{path.name}，{target} 未改动")
    if blank := missing_districts(rows, directory):
        click.echo(f"注意：{len(blank)} 所学校没有片区 (no district)：{'、'.join(blank)}"
                   "（请在表中填写片区；合并的片区单元格可以识别）")
    click.echo("提示：运行 mailbot reclassify --all 让已收邮件按新名单重新识别（片区随之更新）")


@cli.command()
@click.option("--district", help="Only this district.")
@click.option("--secretariat", is_flag=True, help="Only the secretariat's summary.")
@click.option("--dry-run", "outdir", type=click.Path(file_okay=False, path_type=Path),
              help="Write HTML, text, xlsx and ics into this folder instead of sending.")
@click.option("--send", is_flag=True, help="Queue and send the digests now.")
@click.pass_obj
def digest(obj: _Obj, district: str | None, secretariat: bool, outdir: Path | None,
           send: bool) -> None:
    """District digests and the secretariat's summary: preview or send."""
    from . import digest_run
    from . import outbox as outbox_mod
    if bool(outdir) == send:
        raise click.UsageError("请选择 --dry-run 目录 或 --send 之一 (one of --dry-run DIR / --send)")
    engine, cfg = obj.engine(), obj.cfg
    names = digest_run.audiences(cfg, district, secretariat)
    for o in digest_run.run(engine, cfg, names, outdir=outdir):
        click.echo(f"{o.audience}：{DIGEST_ZH.get(o.result, o.result)}")
    if outdir:
        click.echo(f"预览文件在 {outdir}")
    else:
        _echo_delivery(outbox_mod.deliver(engine, cfg))


@cli.command()
@click.option("--district", help="Only this district's schools.")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def export(obj: _Obj, district: str | None, xlsx_path: Path | None, zip_path: Path | None) -> None:
    """Export what was received: --xlsx FILE (summary workbook) or --zip FILE (files)."""
    from . import digest_run
    from .digest import Period
    from .digest_files import xlsx_summary
    from .export import export_zip
    from .filing import FileStore
    if bool(xlsx_path) == bool(zip_path):
        raise click.UsageError("请选择 --xlsx 文件 或 --zip 文件 之一 (one of --xlsx / --zip)")
    cfg, engine = obj.cfg, obj.engine()
    name = digest_run.audiences(cfg, district)[0] if district else digest_run.SECRETARIAT
    with db.transaction(engine) as s:
        rows = [submission(m, ZoneInfo(cfg.campaign.timezone)) for m in db.submissions(s)]
    now = datetime.now(UTC)
    d = digest_run.build(cfg, name, rows, Period(None, now), now)
    if xlsx_path:
        xlsx_path.write_bytes(xlsx_summary(d))
        click.echo(f"已导出汇总表 {xlsx_path}（材料 {len(d.items)} 封"
                   + (f"，另有待确认学校 {len(d.needs_school)} 封" if d.needs_school else "")
                   + (f"，已隔离 {len(d.quarantined)} 封" if d.quarantined else "") + "，见“明细”表）")
    else:
        store = FileStore(cfg.storage.data_dir)
        lost: list[str] = []
        n = export_zip((*d.items, *d.needs_school), lambda p: store.path(p).read_bytes(), zip_path,
                       lost)
        click.echo(f"已导出 {n} 个文件到 {zip_path}（片区/学校/类别，清单 manifest.csv）")
        if lost:
            raise click.ClickException(
                f"数据目录中缺少 {len(lost)} 个文件（并非按保留期限删除），清单中标为“文件缺失”："
                f"{'、'.join(lost[:5])}{' 等' if len(lost) > 5 else ''}；请运行 mailbot verify --repair")


DIGEST_ZH = {"queued": "已排队发送", "written": "已写出预览", "nothing new": "自上次以来没有新材料，未发送",
             "no address": "配置中没有邮箱，未发送", "already queued": "本期已发送过"}


for _command in (cli_care.check_config, cli_care.quarantine, cli_care.retention,
                 cli_care.verify, cli_status.status):
    cli.add_command(_command)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except ConfigError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    except MailbotError as e:
        click.echo(f"mailbot: {e}", err=True)
        sys.exit(1)
    except OSError as e:  # a path the user gave (export, preview dir, data dir) is unusable
        click.echo(f"mailbot: {file_problem(e)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
