"""Command line: ``status`` — progress per district, the last poll, queues, the last error
(registered by :mod:`mailbot.cli`)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from . import config as config_mod
from . import db
from .report import OUTBOX_ZH, STATUS_ZH, counted, submission


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(obj, as_json: bool) -> None:
    """Progress per district (school × deliverable), last poll, queues, last error."""
    from rich.console import Console
    from rich.table import Table

    from .classify.engine import load_rulebook
    from .progress import PLAN_INCOMPLETE, mark, matrix, schools_by_district
    cfg, engine = obj.cfg, obj.engine()
    tz = ZoneInfo(cfg.campaign.timezone)
    directory = load_rulebook(cfg.rules_dir, config_mod.roster_file(cfg)).directory
    with db.transaction(engine) as s:
        rows = [submission(m, tz) for m in db.submissions(s)]
        state = {"last_poll": db.get_state(s, "last_poll"),
                 "last_error": db.get_state(s, "last_error"), **db.counts(s)}
    grid = matrix(rows, schools_by_district(directory, [d.name for d in cfg.districts]))
    state["districts"] = [{"district": d, "school": sc, **sent} for d, sc, sent in grid]
    if as_json:
        click.echo(json.dumps(state, ensure_ascii=False, indent=2))
        return
    console = Console()
    table = Table(title=f"{cfg.campaign.name} 报送进度")
    for column in ("片区", "学校", "活动方案", "新闻", "视频/推文"):
        table.add_column(column)
    for d, sc, sent in grid:
        table.add_row(d, sc, *(mark(sent, k, "—") for k in ("plan", "news", "video")))
    console.print(table)
    if any(sent["plan_incomplete"] for _, _, sent in grid):
        console.print(f"{PLAN_INCOMPLETE} 方案待补：已报方案缺少模板要求的内容（见回执），学校回复补齐后即为 ✓",
                      markup=False)
    last, error = state["last_poll"], state["last_error"]
    console.print(f"最近一次收信：{_when(last.get('at'), tz)}；邮件：{counted(state['messages'], STATUS_ZH)}；"
                  f"发件箱：{counted(state['outbox'], OUTBOX_ZH)}", markup=False)
    if state["receipts_held"]:
        console.print(f"回执：{state['receipts_held']} 封因同一地址的发送频率上限暂缓，稍后合并发送",
                      markup=False)
    if sending := state["send_error"]:
        then = "不再重试" if sending["status"] == "failed" else f"下次重试 {_when(sending['retry_at'], tz)}"
        console.print(f"发信出错：{sending['error']}（{then}；详见 mailbot outbox）", style="red",
                      markup=False)
    if error and error.get("at", "") >= last.get("at", ""):
        console.print(f"最近的错误：{_when(error['at'], tz)} {error['error']}", style="red", markup=False)
    elif error:  # a poll has succeeded since
        console.print(f"此前的错误（其后已正常收信）：{_when(error['at'], tz)} {error['error']}",
                      markup=False)


def _when(iso: str | None, tz: ZoneInfo) -> str:
    """"2026年12月7日 18:44" in the campaign's time zone, or "从未"."""
    if not iso:
        return "从未"
    moment = datetime.fromisoformat(iso).astimezone(tz)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
