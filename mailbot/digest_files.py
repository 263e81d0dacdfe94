"""A digest as things people open: mail text/HTML, thumbnails, .xlsx, .ics, the mail.

Nothing here sends or stores; files are read only through the ``read`` callable
(path -> bytes), so the caller decides where attachments live.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from .classify.links import LARGE
from .compose import domain, outgoing, set_bodies
from .config import Config
from .digest import KINDS, SECRETARIAT, Digest, day_zh, period_zh, question, received, short_name
from .progress import PLAN_INCOMPLETE, mark
from .receipts import PLATFORM_ZH
from .render import render
from .report import KIND_ZH, STATUS_ZH

MATRIX_HEAD = {"plan": "活动方案", "news": "新闻", "video": "视频推文"}
XLSX_SIGN = {PLAN_INCOMPLETE: f"{PLAN_INCOMPLETE} 方案待补"}  # a sheet has no legend
WEEKDAY = "一二三四五六日"
EXPORT_HINT = "如需这些文件，请回复本邮件向秘书处索取"
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")
VISIT_HOURS = 3   # 半日活动: the .ics event length when a start time is known


def _tz(cfg: Config) -> ZoneInfo:
    return ZoneInfo(cfg.campaign.timezone)


def _link(ln: dict) -> dict:
    label = PLATFORM_ZH.get(ln.get("platform") or "other", "链接")
    note = ""
    if ln.get("platform") in LARGE:
        label += f"“{ln['title']}”" if ln.get("title") else ""
        when = (ln.get("expires") or "").replace("T", " ")
        note = f"{when} 过期，请尽快下载" if when else "超大附件约 30 天后过期，请尽快下载"
    elif ln.get("platform") == "baidu_pan" and ln.get("password"):
        note = f"提取码 {ln['password']}"
    return {"label": label, "url": ln["url"], "note": note}


def _item(r: dict, tz: ZoneInfo, thumbs: Mapping[str, str]) -> dict:
    when = received(r).astimezone(tz)
    return {"id": r["id"], "when": f"{when.month}月{when.day}日 {when:%H:%M}",
            "school": r.get("school") or "", "sender": r.get("sender") or "",
            "subject": r.get("subject") or "（无主题）", "late": bool(r.get("late")),
            "kinds": "、".join(KIND_ZH.get(k, k) for k in r.get("kinds") or ()) or "未识别",
            "files": [{"name": a.get("filename") or "（无文件名）", "size": a.get("size") or 0,
                       "cid": thumbs.get(a.get("sha256") or "", "")}
                      for a in r.get("attachments") or ()],
            "links": [_link(ln) for ln in r.get("links") or ()],
            "plan_missing": "、".join(r.get("plan_missing") or ()),
            "recalled": next((e["detail"] for e in r.get("evidence") or ()  # mailbot.recall
                              if e.get("rule") == "status.recall"), ""),
            "reason": r.get("status_reason") or "", "district": r.get("district") or "",
            "credited_by": r.get("credited_by") or ""}


def title(d: Digest) -> str:
    """What a digest is called, in its subject, its body and its workbook's name."""
    return "全省材料汇总" if d.is_secretariat else f"{d.audience}材料汇总"


def _context(d: Digest, cfg: Config, thumbs: Mapping[str, str],
             not_attached: Sequence[dict]) -> dict:
    tz = _tz(cfg)
    groups: dict[str, list] = {}
    for district, school, sent in d.matrix:
        groups.setdefault(district, []).append(  # marks: (name, sent?), as site templates had
            {"school": school, "marks": [(MATRIX_HEAD[k], sent.get(k, False)) for k in KINDS],
             "signs": [(MATRIX_HEAD[k], mark(sent, k)) for k in KINDS]})
    return {
        "d": d, "campaign": cfg.campaign.name or short_name(cfg), "notice": cfg.campaign.notice,
        "period": period_zh(d.period, tz), "secretariat": cfg.secretariat,
        "leader": next((x for x in cfg.districts if x.name == d.audience), None),
        "title": title(d),
        "sections": [{"school": s.school, "entries": [_item(r, tz, thumbs) for r in s.items]}
                     for s in d.sections],
        "missing": [{"name": m.kind_name, "schools": "、".join(m.schools),
                     "count": len(m.schools),
                     "incomplete": "、".join(m.incomplete), "incomplete_count": len(m.incomplete),
                     "due": f"{day_zh(m.due, year=False)}截止" if m.due else "不设截止日期",
                     "left": ("" if m.days_left is None else "已截止" if m.days_left < 0
                              else "今天截止" if m.days_left == 0 else f"剩余 {m.days_left} 天")}
                    for m in d.missing],
        "late": [_item(r, tz, {}) for r in d.late],
        "updated": [_item(r, tz, {}) for r in d.updated],
        "needs_school": [_item(r, tz, {}) for r in d.needs_school],
        "questions": [{**_item(r, tz, {}), "question": question(r)} for r in d.questions],
        "quarantined": [_item(r, tz, {}) for r in d.quarantined],
        "visits": [{"when": _visit_when(v.date, v.time), "v": v} for v in d.visits],
        "matrix": list(groups.items()), "heads": [MATRIX_HEAD[k] for k in KINDS],
        "totals": d.totals, "not_attached": list(not_attached), "export_hint": EXPORT_HINT,
    }


def _visit_when(day: str, at: str) -> str:
    x = date.fromisoformat(day)
    return f"{x.month}月{x.day}日（周{WEEKDAY[x.weekday()]}）" + (f" {at}" if at else "")


def digest_text(d: Digest, cfg: Config, override: str = "",
                not_attached: Sequence[dict] = ()) -> str:
    """The plain-text digest; *not_attached*: [{name, size, why}] files left out of the mail."""
    return render("digest/digest.txt", override, **_context(d, cfg, {}, not_attached))


def digest_html(d: Digest, cfg: Config, thumbs: Mapping[str, str], override: str = "",
                not_attached: Sequence[dict] = ()) -> str:
    """The HTML digest; *thumbs* maps attachment sha256 -> Content-ID (without <>)."""
    return render("digest/digest.html", override, **_context(d, cfg, thumbs, not_attached))


def _is_image(a: dict) -> bool:
    ctype = (a.get("content_type") or "").lower()
    return ctype.startswith("image/") or (a.get("filename") or "").lower().endswith(IMAGE_EXT)


def _thumb(data: bytes, box: int) -> bytes | None:
    """A small RGB JPEG of image *data*, EXIF-rotated; None when it cannot be read."""
    from PIL import Image, ImageOps

    # Pillow warns, in English, of a photo's broken metadata ("Tag data larger than file.
    # Skipping tag 270") or its size: the thumbnail is made all the same, or left out
    warnings.filterwarnings("ignore", module=r"PIL\.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (box * 2, box * 2))
            pic = ImageOps.exif_transpose(img)
            pic.thumbnail((box, box))
            if pic.mode in ("RGBA", "LA", "P", "PA"):
                pic = pic.convert("RGBA")
                flat = Image.new("RGB", pic.size, "white")
                flat.paste(pic, mask=pic.getchannel("A"))
                pic = flat
            buf = io.BytesIO()
            pic.convert("RGB").save(buf, "JPEG", quality=80, optimize=True)
            return buf.getvalue()
    except Exception:   # noqa: BLE001 - corrupt, unsupported or too large: no thumbnail
        return None


def _read(read: Callable[[str], bytes], path: str) -> bytes | None:
    try:
        return read(path)
    except Exception:   # noqa: BLE001 - a missing file is reported by the caller
        return None


def thumbnails(rows: Sequence[dict], read: Callable[[str], bytes], max_count: int = 24,
               box: int = 160) -> dict[str, bytes]:
    """sha256 -> small RGB JPEG (EXIF-rotated) of the rows' image attachments;
    unreadable images are skipped, never raises."""
    out: dict[str, bytes] = {}
    for a in (a for r in rows for a in r.get("attachments") or ()):
        sha = a.get("sha256") or ""
        if len(out) >= max_count or not sha or sha in out or not _is_image(a):
            continue
        data = _read(read, a.get("path") or "")
        if data and (small := _thumb(data, box)):
            out[sha] = small
    return out


def _width(value) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(value or ""))


def _sheet(wb, title: str, head: Sequence[str], rows: Sequence[Sequence]) -> None:
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(title)
    ws.append(list(head))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:  # text a sender wrote ("=HYPERLINK(…)" as a subject or a
            if cell.data_type == "f":  # file name) stays text, never a live formula
                cell.data_type = "s"
    for i, name in enumerate(head, 1):
        widest = max([_width(name), *(_width(r[i - 1]) for r in rows)])
        ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(widest + 2, 8), 60)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    ws.freeze_panes = "A2"


def xlsx_summary(d: Digest) -> bytes:
    """The digest as a workbook: 汇总, 明细, 待交, 活动预告."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    district_of = {school: district for district, school, _ in d.matrix}
    _sheet(wb, "汇总", ["片区", "学校", *MATRIX_HEAD.values()],
           [[dist, s, *(XLSX_SIGN.get(mark(sent, k), mark(sent, k)) for k in KINDS)]
            for dist, s, sent in d.matrix])
    items = sorted({(r["id"], r.get("school")): r  # a leader's mail: a row per credited school
                    for r in (*d.items, *d.needs_school, *d.quarantined, *d.questions)}.values(),
                   key=lambda r: (received(r), r["id"]))
    _sheet(wb, "明细", ["收到时间", "学校", "类别", "主题", "附件", "链接", "状态",  # columns
                      "片区", "发件人", "方案缺项", "编号"],  # added later go at the end
           [[received(r).strftime("%Y-%m-%d %H:%M"), r.get("school") or "（未识别）",
             "、".join(KIND_ZH.get(k, k) for k in r.get("kinds") or ()),
             r.get("subject") or "",
             "\n".join(a.get("filename") or "" for a in r.get("attachments") or ()),
             "\n".join(ln["url"] for ln in r.get("links") or ()),
             STATUS_ZH.get(r.get("status"), r.get("status")) + ("（逾期）" if r.get("late") else ""),
             r.get("district") or district_of.get(r.get("school"), ""), r.get("sender") or "",
             "、".join(r.get("plan_missing") or ()), r["id"]]
            for r in items])
    _sheet(wb, "待交", ["材料", "截止日期", "剩余天数", "片区", "学校"],
           [[m.kind_name + ("（方案待补）" if s in m.incomplete else ""),
             m.due.isoformat() if m.due else "",
             "" if m.days_left is None else ("已截止" if m.days_left < 0 else m.days_left),
             district_of.get(s, ""), s] for m in d.missing
            for s in (*m.schools, *m.incomplete)])
    _sheet(wb, "活动预告", ["日期", "时间", "学校", "地点", "联系人", "电话"],
           [[v.date, v.time, v.host_school, v.place, v.contact, v.phone] for v in d.visits])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def visits_ics(d: Digest, cfg: Config) -> bytes:
    """One VEVENT per visit; times in the campaign time zone."""
    from icalendar import Calendar, Event

    tz = _tz(cfg)
    cal = Calendar()
    cal.add("prodid", "-//mailbot//digest//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{short_name(cfg)}近期活动")
    for v in d.visits:
        ev = Event()
        ev.add("uid", f"visit-{v.uid or v.submission_id}@mailbot")  # a moved visit: the same
        ev.add("sequence", v.submission_id)  # event, a higher sequence (its later plan's id)
        ev.add("dtstamp", d.period.end.astimezone(UTC))
        day = date.fromisoformat(v.date)
        if v.time:
            start = datetime.combine(day, time.fromisoformat(v.time), tz)
            ev.add("dtstart", start)
            ev.add("dtend", start + timedelta(hours=VISIT_HOURS))
        else:
            ev.add("dtstart", day)
        ev.add("summary", f"{v.host_school}博物馆（校史馆）参观")
        if v.place:
            ev.add("location", v.place)
        ev.add("description", f"联系人：{v.contact or '见活动方案'}"
                              + (f"\n电话：{v.phone}" if v.phone else ""))
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()


def _slug(d: Digest, cfg: Config) -> str:
    if d.audience == SECRETARIAT:
        return "secretariat"
    names = [x.name for x in cfg.districts]
    if d.audience in names:
        return f"d{names.index(d.audience) + 1}"
    return hashlib.sha1(d.audience.encode()).hexdigest()[:8]


def _named(school: str | None, filename: str) -> str:
    """An attached file's name in a digest: "西华大学-图片1.png" unless it names its school."""
    return filename if not school or school in filename else f"{school}-{filename}"


def _files(d: Digest, read: Callable[[str], bytes], limit: int) -> tuple[list, list]:
    """([(filename, content_type, data)], [{name, size, why}]) within *limit* bytes."""
    attached, skipped, used, seen = [], [], 0, set()
    for r, a in ((row, a) for row in d.items for a in row.get("attachments") or ()):
        key = a.get("sha256") or a.get("path")
        if key in seen:
            continue
        seen.add(key)
        name, size = _named(r.get("school"), a.get("filename") or "附件"), a.get("size") or 0
        if used + size > limit:
            skipped.append({"name": name, "size": size, "why": "超出邮件大小限制"})
            continue
        data = _read(read, a.get("path") or "")
        if data is None:
            skipped.append({"name": name, "size": size, "why": "文件无法读取"})
            continue
        if used + len(data) > limit:
            skipped.append({"name": name, "size": len(data), "why": "超出邮件大小限制"})
            continue
        used += len(data)
        attached.append((name, a.get("content_type") or "", data))
    return attached, skipped


def digest_mail(d: Digest, cfg: Config, to: str, cc: Sequence[str],
                read: Callable[[str], bytes], attach_limit: int = 20 * 1024 * 1024,
                override: str = "", now: datetime | None = None,
                local_id: str = "") -> EmailMessage:
    """The digest mail (not sent): text + HTML with inline thumbnails, the workbook,
    the .ics when there are visits, and the items' files up to *attach_limit* bytes."""
    tz = _tz(cfg)
    images = thumbnails(d.items, read)
    cids = {sha: f"thumb-{sha[:16]}@{domain(cfg)}" for sha in images}
    files, skipped = _files(d, read, attach_limit)
    end = d.period.end.astimezone(tz)
    mail = outgoing(cfg, to, f"【{short_name(cfg)}】{title(d)} {period_zh(d.period, tz)}",
                    local_id or f"digest-{_slug(d, cfg)}-{end:%Y%m%d%H%M}", now or d.period.end,
                    auto="auto-generated")
    if cc:
        mail["Cc"] = ", ".join(cc)
    set_bodies(mail, digest_text(d, cfg, override, skipped),
               digest_html(d, cfg, cids, override, skipped))
    html = mail.get_payload()[1]
    for sha, data in images.items():
        html.add_related(data, "image", "jpeg", cid=f"<{cids[sha]}>", disposition="inline")
    stamp = end.date().isoformat()
    mail.add_attachment(xlsx_summary(d), maintype="application",
                        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        filename=f"{title(d)}-{stamp}.xlsx")
    if d.visits:
        mail.add_attachment(visits_ics(d, cfg), maintype="text", subtype="calendar",
                            filename=f"{d.audience}近期活动-{stamp}.ics",
                            params={"charset": "utf-8"})
    for name, ctype, data in files:
        maintype, _, subtype = ctype.lower().partition("/")
        if not subtype or maintype in ("multipart", "message"):
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail
