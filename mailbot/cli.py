"""Command line: ``mailbot [--config PATH] COMMAND``.

Every error a user can cause (bad config, unreachable server, missing file)
is printed as one clear sentence and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from . import config as config_mod
from . import db
from .errors import ConfigError, MailbotError
from .filing import FileStore
from .pipeline import process
from .poll import own_addresses, poll_once
from .report import STATUS_ZH, submission, table
from .sources import iter_messages


class _Obj:
    def __init__(self, path: str | None):
        self.path = path
        self._cfg = None

    @property
    def cfg(self) -> config_mod.Config:
        if self._cfg is None:
            self._cfg = config_mod.load(self.path)
        return self._cfg

    def storage(self):
        engine = db.connect(self.cfg.storage.database_url)
        return engine, FileStore(self.cfg.storage.data_dir)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="配置文件 (default: $MAILBOT_CONFIG or ./config.toml)")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """mailbot: 联系邮箱收件登记 — poll, classify, file and acknowledge submissions."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mailparser").setLevel(logging.INFO if verbose else logging.ERROR)
    ctx.obj = _Obj(config_path)


@cli.command()
@click.option("--once", is_flag=True, required=True, help="Poll once and exit.")
@click.pass_obj
def poll(obj: _Obj, once: bool) -> None:
    """Fetch new mail from the contact mailbox (IMAP) and record it."""
    engine, store = obj.storage()
    rep = poll_once(obj.cfg, engine, store)
    by = "，".join(f"{STATUS_ZH.get(k, k)} {v}" for k, v in sorted(rep.by_status.items()))
    click.echo(f"收取 {rep.fetched} 封，新登记 {rep.recorded} 封，重复 {rep.duplicates} 封"
               + (f"（{by}）" if by else ""))


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def import_(obj: _Obj, paths: tuple[Path, ...]) -> None:
    """Record mail from .eml files, mbox files or Maildir folders (sends no mail)."""
    engine, store = obj.storage()
    mine = own_addresses(obj.cfg)
    seen = new = 0
    counts: dict[str, int] = {}
    for raw, source in iter_messages(list(paths)):
        it = process(engine, store, raw, source, None, mine)
        seen += 1
        new += it.created
        counts[it.message.status] = counts.get(it.message.status, 0) + 1
    by = "，".join(f"{STATUS_ZH.get(k, k)} {v}" for k, v in sorted(counts.items()))
    click.echo(f"读取 {seen} 封，新登记 {new} 封，重复 {seen - new} 封" + (f"（{by}）" if by else ""))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract.")
@click.pass_obj
def submissions(obj: _Obj, as_json: bool) -> None:
    """List every recorded message."""
    engine, _ = obj.storage()
    tz = ZoneInfo(obj.cfg.campaign.timezone)
    with db.transaction(engine) as s:
        rows = [submission(m, tz) for m in db.submissions(s)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(table(rows))


@cli.command("check-config")
@click.pass_obj
def check_config(obj: _Obj) -> None:
    """Validate the config file, reporting every problem at once."""
    cfg = obj.cfg
    click.echo(f"配置正确 (config OK): {cfg.path}")
    click.echo(f"  邮箱 {cfg.mailbox.username} @ {cfg.mailbox.host}:{cfg.mailbox.port} "
               f"({cfg.mailbox.security})，文件夹 {', '.join(cfg.mailbox.folders)}")
    click.echo(f"  数据目录 {cfg.storage.data_dir}")
    click.echo(f"  活动 {cfg.campaign.name}，{len(cfg.districts)} 个片区")
    for var in ("MAILBOT_IMAP_PASSWORD", "MAILBOT_SMTP_PASSWORD"):
        if not config_mod.secret(var):
            click.echo(f"  提醒：环境变量 {var} 未设置 (not set)")


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


if __name__ == "__main__":
    main()
