"""The submissions listing, as the stable JSON contract and as a table.

JSON fields (contract: extend, never rename or drop): id, message_id, sender,
subject, received_at, school, district, kinds, status, late, attachments
[{filename, size, sha256, content_type, path}], links [{url, platform}],
plan_missing, receipt (null or {number, sent_at}); extensions since: status_reason,
sender_name, source, raw_path, sent_at, plan_info, evidence, files_removed_at, part_of,
credits [{school, district, kinds, files, plan_missing, plan_info}], recorded_at.
Also here: the retention summary for people.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from . import db
from .models import Message


def _iso(moment, tz: ZoneInfo) -> str | None:
    return db.aware(moment).astimezone(tz).isoformat() if moment else None


def submission(m: Message, tz: ZoneInfo) -> dict:
    """The contract object for one recorded message."""
    return {
        "id": m.id,
        "message_id": m.message_id,
        "sender": m.sender,
        "subject": m.subject,
        "received_at": db.aware(m.received_at).astimezone(tz).isoformat(),
        "school": m.school,
        "district": m.district,
        "kinds": list(m.kinds or []),
        "status": m.status,
        "late": bool(m.late),
        "attachments": [{"filename": a.filename, "size": a.size, "sha256": a.sha256,
                         "content_type": a.content_type, "path": a.path, "inline": a.inline}
                        for a in m.attachments],
        "links": [{"url": ln.url, "platform": ln.platform, "title": ln.title, "size": ln.size,
                   "expires": ln.expires, "password": ln.password} for ln in m.links],
        "plan_missing": list(m.plan_missing or []),
        "receipt": ({"number": m.receipt.number,
                     "sent_at": _iso(m.receipt.outbox.sent_at if m.receipt.outbox else None, tz)}
                    if m.receipt else None),
        # extensions (not in the original contract, free to grow)
        "status_reason": m.status_reason,
        "sender_name": m.sender_name,
        "source": m.source,
        "raw_path": m.raw_path,
        "sent_at": _iso(m.sent_at, tz),
        "plan_info": dict(m.plan_info or {}),
        "evidence": list(m.evidence or []),
        "files_removed_at": _iso(m.files_removed_at, tz),
        "part_of": m.parent_pk,  # the bundle it was forwarded in (None: it came on its own)
        "credits": [{**c, "links": c.get("links", [])}  # a leader's files and links of its
                    for c in m.credits or ()],  # schools (links: since session 9)
        "recorded_at": _iso(m.recorded_at, tz),  # when mailbot recorded it (digests list by it)
    }



STATUS_ZH = {"accepted": "已受理", "needs_school": "待确认学校", "ignored": "已忽略",
             "quarantined": "已隔离"}
OUTBOX_ZH = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败",
             "unconfirmed": "未确认", "receipt": "回执", "digest": "汇总", "notice": "通知"}


def counted(counts: dict[str, int], labels: dict[str, str]) -> str:
    """``{"accepted": 16, "quarantined": 1}`` -> "已受理 16 封，已隔离 1 封" ("无" if empty)."""
    return "，".join(f"{labels.get(k, k)} {v} 封" for k, v in sorted(counts.items())) or "无"


def table(rows: list[dict]) -> str:
    """A plain-text listing for people: one line per message, files indented below."""
    lines = []
    for r in rows:
        status = STATUS_ZH.get(r["status"], r["status"])
        lines.append(f"#{r['id']:<4} {r['received_at'][:16]}  {status:<5}  "
                     f"{r['sender'] or '(无发件人)'}  {r['subject'] or '(无主题)'}")
        if r["part_of"]:
            lines.append(f"      由汇总邮件 #{r['part_of']} 转来")
        if r["status_reason"]:
            lines.append(f"      原因: {r['status_reason']}")
        lines += [f"      撤回请求: {e['detail']}" for e in r["evidence"] if e["rule"] == "status.recall"]
        if r["files_removed_at"]:
            lines.append(f"      原件和附件已于 {r['files_removed_at'][:10]} 按保留期限删除")
        for a in r["attachments"]:
            lines.append(f"      📎 {a['filename'] or '(无文件名)'}  {a['size']} B  -> {a['path']}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = "，".join(f"{STATUS_ZH.get(k, k)} {v}" for k, v in sorted(counts.items()))
    lines.append(f"共 {len(rows)} 封邮件" + (f"（{summary}）" if rows else ""))
    return "\n".join(lines)


FIELD_ZH = {"status": "状态", "school": "学校", "school.conflict": "学校（未采用的线索）",
            "kinds": "类别", "late": "时限", "parts": "汇总", "plan": "方案",
            "credits": "代交"}
KIND_ZH = {"plan": "活动方案", "news": "新闻", "video": "视频/推文"}


def explanation(r: dict, parts: list[dict] = ()) -> str:
    """Every decision for one message with the evidence behind it, for people; a bundle's
    *parts* (the rows of the mails it forwarded) are listed after it."""
    kinds = "、".join(KIND_ZH.get(k, k) for k in r["kinds"]) or "（无）"
    lines = [f"#{r['id']} {r['subject'] or '(无主题)'}",
             f"  发件人  {_sender(r)}，{r['received_at']} 收到",
             f"  状态    {STATUS_ZH.get(r['status'], r['status'])}"
             + (f"（{r['status_reason']}）" if r["status_reason"] else ""),
             f"  学校    {r['school'] or '未识别'}" + (f"，{r['district']}" if r["district"] else ""),
             f"  类别    {kinds}" + ("，逾期" if r["late"] else "")]
    if r["plan_missing"]:
        lines.append(f"  方案缺项 {'、'.join(r['plan_missing'])}")
    if r["part_of"]:
        lines.append(f"  来源    由汇总邮件 #{r['part_of']} 转来")
    for p in parts:
        lines.append(f"  转来    #{p['id']} {p['school'] or '未识别'}：{p['subject'] or '(无主题)'}")
    for ln in r["links"]:
        lines.append(f"  链接    [{ln['platform']}] {ln['url']}")
    lines.append("  依据：")
    for e in r["evidence"]:
        lines.append(f"    - {FIELD_ZH.get(e['field'], e['field'])}: {e['detail']}  [{e['rule']}]")
    if not r["evidence"]:
        lines.append("    （没有任何规则命中）")
    return "\n".join(lines)


def _sender(r: dict) -> str:
    """"王老师 <houqin@scu.edu.cn>", or what there is of it."""
    if not r["sender"]:
        return f"{r['sender_name']}（无发件地址）" if r["sender_name"] else "（无发件人）"
    return f"{r['sender_name']} <{r['sender']}>" if r["sender_name"] else r["sender"]


RULE_ZH = {"ignored_days": "已忽略邮件", "quarantine_days": "隔离邮件",
           "submissions_days": "报送材料（已受理、待确认学校）", "outbox_days": "发件箱正文"}


def human_bytes(n: int) -> str:
    """1536 -> "1.5 KB"."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def retention_text(days: dict[str, int], plan: dict, dry_run: bool, tz: ZoneInfo) -> str:
    """What ``mailbot retention`` removed (or, *dry_run*, would remove), for people."""
    rules = "，".join(f"{RULE_ZH[k]} {f'{v} 天' if v else '永久保留'}" for k, v in days.items())
    lines = [f"保留期限：{rules}"]
    items = plan["items"]
    if not items:
        return "\n".join([*lines, "没有到期需要删除的内容。"])
    lines.append("已到期（预演，未做任何改动）：" if dry_run else "已到期并处理：")
    for it in items:
        when = datetime.fromisoformat(it["at"]).astimezone(tz).strftime("%Y-%m-%d")
        if it["kind"] == "outbox":
            lines.append(f"  发件箱 #{it['id']} {it['subject']}（{when}）：正文 "
                         f"{human_bytes(it['bytes'])}")
            continue
        what = "上次未删完的文件" if it["rule"] == "leftover" else STATUS_ZH.get(it["status"], "")
        lines.append(f"  #{it['id']} {what} {when} {it['subject'] or '(无主题)'}："
                     f"{len(it['files'])} 个文件，{human_bytes(it['bytes'])}")
    files = sum(len(it["files"]) for it in items)
    mails = sum(it["kind"] == "message" and it["rule"] != "leftover" for it in items)
    bodies = sum(it["kind"] == "outbox" for it in items)
    lines.append(f"合计：{mails} 封邮件，{files} 个文件，{bodies} 封发件箱正文，"
                 f"{human_bytes(plan['bytes'])}")
    if plan["shared_kept"]:
        lines.append(f"另有 {plan['shared_kept']} 个文件仍被其他邮件使用，保留")
    if plan["recent_kept"]:
        lines.append(f"{plan['recent_kept']} 个文件一小时内刚被写入或再次使用，暂不删除（下次再检查）")
    if not dry_run:
        lines.append(f"已释放 {human_bytes(plan['freed'])}")
    return "\n".join(lines)
