"""Digests: who sees what, what is missing, and the files/mail built from them."""

from __future__ import annotations

import email
import io
import struct
import warnings
from datetime import UTC, date, datetime, time, timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import openpyxl
import pytest
from PIL import Image

from mailbot import config
from mailbot.digest import (
    UNASSIGNED,
    Period,
    build_district_digest,
    build_secretariat_digest,
    settling,
)
from mailbot.digest_files import (
    digest_html,
    digest_mail,
    digest_text,
    thumbnails,
    visits_ics,
    xlsx_summary,
)

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
CD1, CN = "成都第一片区", "川南片区"
SCHOOLS = {CD1: ["四川师范大学", "西南财经大学", "成都体育学院"],
           CN: ["四川轻化工大学", "西南医科大学", "宜宾学院"]}
WEEK = Period(datetime(2024, 7, 1, tzinfo=TZ), datetime(2024, 7, 8, tzinfo=TZ))
NOW = datetime(2024, 7, 8, 9, 0, tzinfo=TZ)


def _jpeg(size=(320, 200), orientation: int | None = None) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    buf = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


FILES = {"a/photo.jpg": _jpeg(orientation=6), "a/news.docx": b"PK\x03\x04" + b"x" * 3000,
         "a/broken.jpg": b"\xff\xd8\xff not really a jpeg"}


def read(path: str) -> bytes:
    return FILES[path]


def att(name, path, ctype, sha):
    return {"filename": name, "size": len(FILES.get(path, b"")), "sha256": sha,
            "content_type": ctype, "path": path}


def row(id_, school, district, when, kinds, status="accepted", **extra):
    r = {"id": id_, "message_id": f"m{id_}@example.cn", "sender": f"hq{id_}@example.edu.cn",
         "sender_name": "后勤", "subject": f"{school or '某校'}{'、'.join(kinds)}",
         "received_at": when.isoformat(), "school": school, "district": district,
         "kinds": list(kinds), "status": status, "late": False, "attachments": [], "links": [],
         "plan_missing": [], "plan_info": {}, "evidence": [], "receipt": None,
         "status_reason": ""}
    r.update(extra)
    return r


def at(month, day, hour=10):
    return datetime(2024, month, day, hour, 0, tzinfo=TZ)


def visit(day, time="", place=""):
    return {"visit_date": day, "visit_time": time, "place": place, "contact": "张老师",
            "phone": "028-84760000"}


ROWS = [
    row(1, "四川师范大学", CD1, at(6, 28), ["plan"],
        plan_info=visit("2024-07-10", "14:30", "四川师范大学狮子山校区校史馆")),
    row(2, "西南财经大学", CD1, at(7, 3), ["news"],
        attachments=[att("参观照片.jpg", "a/photo.jpg", "image/jpeg", "s" * 64),
                     att("新闻稿.docx", "a/news.docx", "application/vnd.openxmlformats-"
                         "officedocument.wordprocessingml.document", "d" * 64),
                     att("坏图.jpg", "a/broken.jpg", "image/jpeg", "b" * 64)]),
    row(3, "成都体育学院", CD1, at(7, 5), ["plan"], plan_missing=["活动流程"],
        plan_info=visit("2024-07-02", "09:00")),
    row(4, "宜宾学院", CN, at(7, 4), ["plan"], plan_info=visit("2024-07-20", "", "宜宾学院校史馆")),
    row(5, "西南医科大学", CN, at(7, 4), ["news"], status="ignored"),
    row(6, "四川轻化工大学", CN, at(7, 6), ["plan"], status="quarantined",
        status_reason="附件含可执行文件"),
    row(7, None, None, at(7, 6), ["news"], status="needs_school", sender="12345@qq.com"),
    row(8, "西华大学", "", at(7, 5), ["video"], late=True,
        links=[{"url": "https://mp.weixin.qq.com/s/abc", "platform": "wechat_article",
                "title": "", "size": "", "expires": "", "password": ""}]),
    row(9, "西南财经大学", CD1, at(7, 8, 11), ["video"]),
]


@pytest.fixture(scope="module")
def cfg():
    return config.load(ROOT / "config.example.toml")


def district(cfg, name=CD1, period=WEEK, now=NOW, rows=ROWS):
    return build_district_digest(name, rows, SCHOOLS[name], cfg, period, now)


def secretariat(cfg, period=WEEK, now=NOW):
    return build_secretariat_digest(ROWS, SCHOOLS, cfg, period, now)


@pytest.mark.parametrize("name, schools", [(CD1, ["西南财经大学", "成都体育学院"]), (CN, ["宜宾学院"])])
def test_district_lists_only_its_schools(cfg, name, schools):
    d = district(cfg, name)
    assert [s.school for s in d.sections] == schools
    assert {r["school"] for r in d.items} <= set(SCHOOLS[name])
    assert d.needs_school == () and d.quarantined == ()
    assert [m[1] for m in d.matrix] == SCHOOLS[name]


def test_a_bundle_is_listed_by_its_schools_mails_not_as_itself(cfg):
    """The 川南 leader's bundle brings 宜宾学院's news: the news is listed under 宜宾学院;
    the bundle, delivering nothing itself, is not listed under 四川轻化工大学."""
    bundle = row(20, "四川轻化工大学", CN, at(7, 7), [], evidence=[
        {"field": "parts", "rule": "bundle", "detail": "汇总邮件：转来 2 封邮件"}])
    part = row(21, "宜宾学院", CN, at(7, 7), ["news"], part_of=20)
    d = district(cfg, CN, rows=[*ROWS, bundle, part])
    assert [(s.school, [r["id"] for r in s.items]) for s in d.sections] == [("宜宾学院", [4, 21])]
    # its mails recorded before (the schools also wrote to us): still not listed itself
    assert [s.school for s in district(cfg, CN, rows=[*ROWS, bundle]).sections] == ["宜宾学院"]
    assert "宜宾学院" not in next(m for m in d.missing if m.kind == "news").schools
    with_file = {**bundle, "attachments": [att("汇总表.xlsx", "a/sum.xlsx", "application/x", "x" * 64)]}
    d = district(cfg, CN, rows=[*ROWS, with_file, part])
    assert [s.school for s in d.sections] == ["四川轻化工大学", "宜宾学院"]


def test_a_leaders_files_of_its_schools_count_for_them(cfg):
    """The 川南 leader attaches 西南医科大学's news and photo to a mail of its own: they are
    listed under 西南医科大学, marked as handed in by the leader, and it is no longer
    missing news; the leader, delivering nothing itself, is not listed."""
    files = [att("西南医科大学新闻稿.docx", "a/news.docx", "application/x", "n" * 64),
             att("西南医科大学照片.jpg", "a/photo.jpg", "image/jpeg", "p" * 64)]
    leader = row(30, "四川轻化工大学", CN, at(7, 7), [], attachments=files, credits=[
        {"school": "西南医科大学", "district": CN, "kinds": ["news"],
         "files": ["西南医科大学新闻稿.docx", "西南医科大学照片.jpg"], "plan_missing": []}])
    d = district(cfg, CN, rows=[*ROWS, leader])
    assert [(s.school, [r["id"] for r in s.items]) for s in d.sections] == [
        ("西南医科大学", [30]), ("宜宾学院", [4])]
    (credited,) = d.sections[0].items
    assert [a["filename"] for a in credited["attachments"]] == [a["filename"] for a in files]
    assert "西南医科大学" not in next(m for m in d.missing if m.kind == "news").schools
    assert "四川轻化工大学" in next(m for m in d.missing if m.kind == "news").schools
    text = digest_text(d, cfg)
    assert "【西南医科大学】" in text and "（四川轻化工大学代交）" in text
    assert "【四川轻化工大学】" not in text
    # the leader's own file stays the leader's; an unaccepted mail credits no one
    own = {**leader, "attachments": [*files, att("汇总表.xlsx", "a/sum.xlsx", "application/x",
                                                  "x" * 64)]}
    d = district(cfg, CN, rows=[*ROWS, own])
    assert [s.school for s in d.sections] == ["四川轻化工大学", "西南医科大学", "宜宾学院"]
    assert [a["filename"] for a in d.sections[0].items[0]["attachments"]] == ["汇总表.xlsx"]
    held = {**leader, "status": "quarantined"}
    assert "西南医科大学" in next(m for m in district(cfg, CN, rows=[*ROWS, held]).missing
                                if m.kind == "news").schools


def test_a_credited_plans_visit_is_on_the_calendar(cfg):
    leader = row(31, "四川轻化工大学", CN, at(7, 7), [], credits=[
        {"school": "西南医科大学", "district": CN, "kinds": ["plan"], "files": ["方案.docx"],
         "plan_missing": [], "plan_info": visit("2024-07-18", "14:30", "西南医科大学校史馆")}])
    before = [(v.date, v.host_school, v.submission_id) for v in district(cfg, CN).visits]
    after = [(v.date, v.host_school, v.submission_id)
             for v in district(cfg, CN, rows=[*ROWS, leader]).visits]
    assert after == sorted([*before, ("2024-07-18", "西南医科大学", 31)])


def test_one_leader_mail_credited_to_two_schools_is_one_mail_with_a_row_each(cfg):
    """Totals count the mail once; the 明细 sheet has a row per school; the two credited
    plans' visits are two calendar events; expanding twice changes nothing."""
    from mailbot.progress import per_school
    credit = {"district": CN, "kinds": ["plan"], "plan_missing": []}
    leader = row(32, "四川轻化工大学", CN, at(7, 7), [], credits=[
        {**credit, "school": "西南医科大学", "files": ["西南医科大学方案.docx"],
         "plan_info": visit("2024-07-18", "14:30")},
        {**credit, "school": "宜宾学院", "files": ["宜宾学院方案.docx"], "late": True,
         "plan_info": visit("2024-07-25")}])
    rows = [row(33, "西南医科大学", CN, at(7, 2), ["news"]), leader]
    once = per_school(rows)
    assert per_school(once) == once and len(once) == 3
    assert [r["late"] for r in once] == [False, False, True]
    d = district(cfg, CN, rows=rows)
    assert (d.totals["messages"], d.totals["accepted"]) == (2, 2)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_summary(d)))["明细"]
    assert [sheet.cell(n, 2).value for n in range(2, sheet.max_row + 1)] == [
        "西南医科大学", "西南医科大学", "宜宾学院"]
    events = icalendar.Calendar.from_ical(visits_ics(d, cfg)).walk("VEVENT")
    assert len({str(e["uid"]) for e in events}) == 2 and [e["sequence"] for e in events] == [32, 32]


@pytest.mark.parametrize("name, kind, missing", [
    (CD1, "plan", ["西南财经大学"]),                          # 川师 sent before the period
    (CD1, "news", ["四川师范大学", "成都体育学院"]),
    (CD1, "video", SCHOOLS[CD1]),                            # #9 came after period.end
    (CN, "plan", ["四川轻化工大学", "西南医科大学"]),           # quarantined does not count
    (CN, "news", SCHOOLS[CN]),                               # ignored does not count
])
def test_missing(cfg, name, kind, missing):
    m = {x.kind: x for x in district(cfg, name).missing}[kind]
    assert list(m.schools) == missing


@pytest.mark.parametrize("now, kind, days", [
    (NOW, "plan", 115),                                      # due 2024-10-31
    (datetime(2024, 9, 29, 17, 0, tzinfo=UTC), "video", 0),  # already 9-30 in Shanghai
    (datetime(2024, 9, 29, 15, 0, tzinfo=UTC), "video", 1),
    (datetime(2024, 10, 1, 8, 0, tzinfo=TZ), "video", -1),
])
def test_days_left_in_shanghai(cfg, now, kind, days):
    m = {x.kind: x for x in district(cfg, now=now).missing}[kind]
    assert m.days_left == days and m.due == cfg.campaign.phases[[p.kind for p in
                                                                 cfg.campaign.phases].index(kind)].due


def test_deliverable_not_open_yet_is_not_missing(cfg):
    d = district(cfg, period=Period(None, at(6, 28, 0)), now=at(6, 28, 0))
    assert [m.kind for m in d.missing] == ["plan", "video"]    # news opens 7-1


@pytest.mark.parametrize("period, ids", [
    (WEEK, [2, 3]),
    (Period(None, WEEK.end), [1, 2, 3]),
    (Period(WEEK.end, datetime(2024, 7, 15, tzinfo=TZ)), [9]),
    (Period(at(7, 3), at(7, 5)), [2]),                       # [start, end): #3 at 7-5 10:00 out
])
def test_period_filtering(cfg, period, ids):
    assert sorted(r["id"] for r in district(cfg, period=period).items) == ids


def test_visits_across_districts_past_dropped(cfg):
    d = district(cfg)
    assert [(v.date, v.time, v.host_school, v.submission_id) for v in d.visits] == [
        ("2024-07-10", "14:30", "四川师范大学", 1), ("2024-07-20", "", "宜宾学院", 4)]
    later = district(cfg, now=datetime(2024, 7, 15, tzinfo=TZ))
    assert [v.host_school for v in later.visits] == ["宜宾学院"]


def test_secretariat_digest(cfg):
    d = secretariat(cfg)
    assert d.audience == "秘书处"
    assert [r["id"] for r in d.needs_school] == [7]
    assert [r["id"] for r in d.quarantined] == [6]
    assert [r["id"] for r in d.late] == [8]
    groups = {}
    for dist, school, sent in d.matrix:
        groups.setdefault(dist, []).append((school, sent))
    assert list(groups) == [CD1, CN, UNASSIGNED]
    assert groups[UNASSIGNED] == [("西华大学", {"plan": False, "news": False, "video": True,
                                            "plan_incomplete": False})]
    assert d.totals == {"messages": 7, "accepted": 4, "needs_school": 1, "ignored": 1,
                        "quarantined": 1, "files": 3, "links": 1}
    text = digest_text(d, cfg)
    for words in ("待确认学校", "已隔离", "附件含可执行文件", UNASSIGNED, "西华大学", "逾期"):
        assert words in text


def test_text_and_html(cfg):
    d = district(cfg)
    text = digest_text(d, cfg)
    for words in ("成都第一片区材料汇总", "2024年7月1日至7月7日", "参观照片.jpg", "方案缺项：活动流程",
                  "尚未报送", "剩余 115 天", "近期活动", "7月20日（周六）", "四川师范大学：活动方案✓",
                  "贺健 028-85707118", "朱寒野"):
        assert words in text, words
    html = digest_html(d, cfg, {"s" * 64: "thumb-1@qq.com"})
    assert 'src="cid:thumb-1@qq.com"' in html and "<script" not in html
    empty = district(cfg, period=Period(at(7, 20), at(7, 21)))
    assert "本期没有新材料" in digest_text(empty, cfg) and "尚未报送" in digest_text(empty, cfg)
    odd = [row(20, "西南财经大学", CD1, at(7, 2), ["news"], subject="<script>x</script>")]
    assert "&lt;script&gt;" in digest_html(district(cfg, rows=odd), cfg, {})


def test_xlsx(cfg):
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_summary(district(cfg))))
    assert wb.sheetnames == ["汇总", "明细", "待交", "活动预告"]
    summary = [[c.value for c in r] for r in wb["汇总"].iter_rows()]
    assert summary[0] == ["片区", "学校", "活动方案", "新闻", "视频推文"]
    assert summary[1] == [CD1, "四川师范大学", "✓", "✗", "✗"]
    assert wb["明细"].max_row == 3 and wb["明细"]["B2"].value == "西南财经大学"
    assert wb["活动预告"]["C2"].value == "四川师范大学"
    assert wb["汇总"].column_dimensions["B"].width >= 12


def test_a_plan_still_lacking_items_is_marked_apart_until_a_plan_of_the_school_is_complete(cfg):
    """A plan whose receipt asked for missing items used to be ✓ like a complete one: it is
    △ (方案待补) in the matrix of both digests, their text and HTML and the 汇总 sheet, until
    any accepted plan of the school (before the period's end) lacks nothing."""
    rows = [row(30, "四川师范大学", CD1, at(7, 2), ["plan"], plan_missing=["活动流程"]),
            row(31, "西南财经大学", CD1, at(7, 2), ["plan"], plan_missing=["活动时间", "活动流程"]),
            row(32, "西南财经大学", CD1, at(7, 9), ["plan", "news"]),  # after WEEK's end
            row(33, "成都体育学院", CD1, at(7, 3), ["plan"]),
            row(34, "成都体育学院", CD1, at(7, 4), ["plan"], plan_missing=["活动流程"])]
    later = Period(WEEK.start, datetime(2024, 7, 15, tzinfo=TZ))
    for d, sign in ((district(cfg, rows=rows), "△"), (district(cfg, rows=rows, period=later), "✓"),
                    (build_secretariat_digest(rows, SCHOOLS, cfg, WEEK, NOW), "△")):
        grid = {s: sent for _, s, sent in d.matrix}
        assert grid["四川师范大学"] == {"plan": True, "news": False, "video": False,
                                   "plan_incomplete": True}
        assert grid["西南财经大学"]["plan_incomplete"] is (sign == "△")
        assert grid["成都体育学院"]["plan"] and not grid["成都体育学院"]["plan_incomplete"]
        text = digest_text(d, cfg)
        assert "报送情况（✓ 已报  △ 方案待补  ✗ 未报）" in text
        assert "四川师范大学：活动方案△ 新闻✗ 视频推文✗" in text
        assert f"西南财经大学：活动方案{sign}" in text and "成都体育学院：活动方案✓" in text
        html = digest_html(d, cfg, {})
        assert "△ 方案待补" in html and html.count(">△</td>") == (2 if sign == "△" else 1)
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx_summary(d)))["汇总"]
        summary = {r[1]: r[2:] for r in sheet.iter_rows(min_row=2, values_only=True)}
        assert summary["四川师范大学"] == ("△ 方案待补", "✗", "✗")
        assert summary["西南财经大学"][0] == ("△ 方案待补" if sign == "△" else "✓")
        assert summary["成都体育学院"][0] == "✓"


def test_the_pending_list_names_the_schools_whose_plan_still_lacks_items(cfg):
    """尚未报送 counted a school whose every plan lacks template items as done: the leader,
    who chases the schools, is now told which plans are 方案待补 — in the text, the HTML and
    the 待交 sheet — and such a school leaves the list once a complete plan arrives."""
    rows = [row(30, "四川师范大学", CD1, at(7, 2), ["plan"], plan_missing=["活动流程"]),
            row(31, "西南财经大学", CD1, at(7, 2), ["plan"], plan_missing=["活动时间"]),
            row(32, "西南财经大学", CD1, at(7, 9), ["plan", "news"]),  # after WEEK's end
            row(33, "成都体育学院", CD1, at(7, 3), ["plan"])]
    later = Period(WEEK.start, datetime(2024, 7, 15, tzinfo=TZ))
    for d, owed in ((district(cfg, rows=rows), ("四川师范大学", "西南财经大学")),
                    (district(cfg, rows=rows, period=later), ("四川师范大学",)),
                    (build_secretariat_digest(rows, SCHOOLS, cfg, WEEK, NOW),
                     ("四川师范大学", "西南财经大学"))):
        plan = next(m for m in d.missing if m.kind == "plan")
        assert plan.incomplete == owed
        assert not set(owed) & set(plan.schools) and "成都体育学院" not in plan.schools
        assert all(not m.incomplete for m in d.missing if m.kind != "plan")
        line = f"△ 方案待补 {len(owed)} 所（已报方案缺少模板要求的内容）：{'、'.join(owed)}"
        assert line in digest_text(d, cfg) and line in digest_html(d, cfg, {})
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx_summary(d)))["待交"]
        pending = [(r[0], r[4]) for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert [s for k, s in pending if k.endswith("（方案待补）")] == list(owed)
        assert "成都体育学院" not in [school for kind, school in pending if kind.startswith("活动方案")]
    done = [row(33, "成都体育学院", CD1, at(7, 3), ["plan"])]
    assert "已报方案缺少模板要求的内容）：" not in digest_text(district(cfg, rows=done), cfg)


def test_ics(cfg):
    cal = icalendar.Calendar.from_ical(visits_ics(district(cfg), cfg))
    events = list(cal.walk("VEVENT"))
    assert len(events) == 2
    assert events[0]["dtstart"].dt == datetime(2024, 7, 10, 14, 30, tzinfo=TZ)
    assert str(events[0]["uid"]).startswith("visit-") and events[0]["sequence"] == 1
    assert str(events[0]["summary"]) == "四川师范大学博物馆（校史馆）参观"
    assert events[1]["dtstart"].dt == date(2024, 7, 20)
    assert str(events[1]["location"]) == "宜宾学院校史馆"


def test_thumbnails():
    png = io.BytesIO()
    Image.new("RGBA", (50, 400), (0, 0, 255, 128)).save(png, "PNG")
    FILES["a/logo.png"] = png.getvalue()
    rows = [*ROWS, row(30, "宜宾学院", CN, at(7, 2), ["news"], attachments=[
        att("logo.png", "a/logo.png", "image/png", "p" * 64),
        att("gone.jpg", "a/gone.jpg", "image/jpeg", "g" * 64)])]
    thumbs = thumbnails(rows, read)
    assert set(thumbs) == {"s" * 64, "p" * 64}                 # corrupt and unreadable skipped
    photo = Image.open(io.BytesIO(thumbs["s" * 64]))
    assert photo.format == "JPEG" and photo.mode == "RGB"
    assert photo.size == (100, 160)                           # 320x200 rotated by EXIF 6
    assert max(Image.open(io.BytesIO(thumbs["p" * 64])).size) <= 160
    assert len(thumbnails(rows, read, max_count=1)) == 1


def test_a_photo_with_broken_exif_gets_a_thumbnail_and_no_english_warning():
    """A camera's broken EXIF made Pillow print "UserWarning: Tag data larger than file"
    in the middle of `digest --send`."""
    head = struct.pack("<2sHI", b"II", 42, 8)  # TIFF header, then an IFD of 2 entries:
    entries = [(0x0112, 3, 1, 6), (0x010E, 2, 1000, 200)]  # orientation; 1000 bytes past the end
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
    buf = io.BytesIO()
    Image.new("RGB", (50, 40), "red").save(buf, "JPEG", exif=b"Exif\0\0" + head + ifd + b"\0" * 4)
    rows = [row(31, "宜宾学院", CN, at(7, 2), ["news"], attachments=[
        att("合影.jpg", "a/exif.jpg", "image/jpeg", "e" * 64)])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        thumbs = thumbnails(rows, {"a/exif.jpg": buf.getvalue()}.__getitem__)
    assert Image.open(io.BytesIO(thumbs["e" * 64])).size == (40, 50)  # rotated all the same
    assert not caught, [str(w.message) for w in caught]


def _parts(mail):
    return [(p.get_content_type(), p) for p in mail.walk()]


def test_digest_mail(cfg):
    mail = digest_mail(district(cfg), cfg, "houqin@sicnu.edu.cn", ["344523819@qq.com"], read)
    parsed = email.message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "【接力行】成都第一片区材料汇总 2024年7月1日至7月7日"
    assert parsed["Message-ID"] == "<digest-d1-202407080000@qq.com>"
    assert parsed["Auto-Submitted"] == "auto-generated" and parsed["Precedence"] == "bulk"
    assert parsed["Cc"] == "344523819@qq.com"
    types = [t for t, _ in _parts(parsed)]
    assert types[:5] == ["multipart/mixed", "multipart/alternative", "text/plain",
                         "multipart/related", "text/html"]
    html = parsed.get_body(("html",)).get_content()
    image = next(p for t, p in _parts(parsed) if t == "image/jpeg" and p["Content-ID"])
    assert f'cid:{image["Content-ID"].strip("<>")}' in html
    names = [p.get_filename() for p in parsed.iter_attachments()]
    assert names == ["成都第一片区材料汇总-2024-07-08.xlsx", "成都第一片区近期活动-2024-07-08.ics",
                     "西南财经大学-参观照片.jpg", "西南财经大学-新闻稿.docx", "西南财经大学-坏图.jpg"]
    assert "filename*" in mail.as_string()                     # RFC 2231
    xlsx = next(p for p in parsed.iter_attachments() if p.get_filename().endswith(".xlsx"))
    assert openpyxl.load_workbook(io.BytesIO(xlsx.get_content())).sheetnames[0] == "汇总"
    assert "mailbot export" not in parsed.get_body(("plain",)).get_content()


def test_attach_limit(cfg):
    d = district(cfg)
    mail = digest_mail(d, cfg, "houqin@sicnu.edu.cn", [], read, attach_limit=2000)
    names = [p.get_filename() for p in mail.iter_attachments()]
    assert "西南财经大学-新闻稿.docx" not in names and "西南财经大学-参观照片.jpg" in names
    text = mail.get_body(("plain",)).get_content()
    assert "西南财经大学-新闻稿.docx" in text and "如需这些文件，请回复本邮件向秘书处索取" in text
    none = digest_mail(district(cfg, period=Period(at(7, 20), at(7, 21))), cfg, "x@y.cn", [],
                       read)
    assert [p.get_content_type() for p in none.iter_attachments()] == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/calendar"]


def test_secretariat_mail_has_no_visit_ics_when_none(cfg):
    d = secretariat(cfg, now=datetime(2024, 8, 1, tzinfo=TZ))
    mail = digest_mail(d, cfg, "344523819@qq.com", [], read)
    assert mail["Message-ID"].startswith("<digest-secretariat-")
    assert [p.get_filename().rsplit(".", 1)[1] for p in mail.iter_attachments()][:2] == [
        "xlsx", "jpg"]


def test_schedule_reminders_and_catch_up_slot():
    from mailbot.jobs import last_slot, reminder_times
    cfg = config.load(ROOT / "config.example.toml")
    now = datetime(2024, 9, 4, 12, 0, tzinfo=UTC)        # a Wednesday
    slot = last_slot(cfg, now)
    assert slot.weekday() == 0 and slot.strftime("%H:%M") == "09:00" and slot <= now
    assert (now - slot).days < 7
    reminders = reminder_times(cfg, now)
    assert [r.date().isoformat() for r in reminders] == ["2024-09-23", "2024-10-24"]


def test_a_school_is_in_one_district_in_the_status_table_every_digest_and_the_export(cfg):
    """西华大学 has no district in the directory; it wrote on its own (no district) and was
    forwarded in 成都第一片区's leader's bundle: the status table, the district digest and the
    secretariat's place it once, in that district, and not as missing there."""
    from mailbot.progress import matrix, per_school, settle_districts
    rows = [row(20, "西华大学", "", at(7, 3), ["plan"]),
            row(21, "西华大学", CD1, at(7, 4), ["news"], part_of=30),
            row(22, "四川师范大学", CN, at(7, 4), ["video"])]  # the directory wins
    settled = settle_districts(per_school(rows), SCHOOLS)
    assert [(r["id"], r["district"]) for r in settled] == [(20, CD1), (21, CD1), (22, CD1)]
    assert settle_districts(settled, SCHOOLS) == settled
    grid = [(d, s) for d, s, _ in matrix(rows, SCHOOLS)]
    assert grid.count((CD1, "西华大学")) == 1 and not any(s == "西华大学" and d != CD1
                                                        for d, s in grid)
    mine = build_district_digest(CD1, settled, SCHOOLS[CD1], cfg, WEEK, NOW)
    assert all("西华大学" not in m.schools for m in mine.missing if m.kind in ("plan", "news"))
    assert ("西华大学", {"plan": True, "news": True, "video": False, "plan_incomplete": False}) in \
        [(s, sent) for _, s, sent in mine.matrix]
    whole = build_secretariat_digest(settled, SCHOOLS, cfg, WEEK, NOW)
    assert [(d, s) for d, s, _ in whole.matrix].count((CD1, "西华大学")) == 1
    assert all(s != "西华大学" for d, s, _ in whole.matrix if d != CD1)


def test_the_export_holds_what_waits_for_a_school_and_the_workbook_says_whose_it_is(cfg, tmp_path):
    """Files of mail whose school is not known yet go into the zip under 待确认学校 (they
    were in no export); the 明细 sheet names the district, sender, missing plan fields
    and number of every row, after the columns it always had."""
    import zipfile

    from mailbot.export import export_zip
    photo = att("合影.jpg", "a/photo.jpg", "image/jpeg", "p" * 64)
    rows = [row(40, None, None, at(7, 6), ["news"], status="needs_school",
                sender="12345@qq.com", attachments=[photo]),
            row(41, "四川师范大学", CD1, at(7, 6), ["plan"], plan_missing=["活动流程"])]
    d = build_secretariat_digest(rows, SCHOOLS, cfg, WEEK, NOW)
    target = tmp_path / "all.zip"
    assert export_zip((*d.items, *d.needs_school), read, target) == 1
    with zipfile.ZipFile(target) as z:
        assert z.read("待确认学校/40 12345@qq.com/合影.jpg") == FILES["a/photo.jpg"]
        manifest = z.read("manifest.csv").decode("utf-8-sig")
    assert ",待确认学校,新闻," in manifest and "四川师范大学" in manifest
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_summary(d)))["明细"]
    head = [c.value for c in sheet[1]]
    assert head[:7] == ["收到时间", "学校", "类别", "主题", "附件", "链接", "状态"]
    got = {r[head.index("编号")]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert got[41][head.index("片区")] == CD1 and got[41][head.index("方案缺项")] == "活动流程"
    assert got[40][head.index("发件人")] == "12345@qq.com"


@pytest.mark.parametrize("name, greeted", [("王文娟", "王文娟老师"), ("swpu_hq", "老师"), ("", "老师"),
                                           (None, "老师"), ("张老师", "张老师"), ("李主任", "李主任"),
                                           ("成都大学后勤处", "老师"), ("宣传科", "老师"),
                                           ("后勤党支部", "老师"), ("四川大学", "老师")])
def test_a_letter_greets_a_person_not_an_account(name, greeted):
    from mailbot.render import addressee
    assert addressee(name) == greeted


def test_digest_wording_for_leaders_and_the_secretariat(cfg):
    """The leader is greeted as a person and told the material already reached the
    secretariat; without a roster (the district knows only its lead school) nobody is "all
    sent" — only the schools that wrote are counted, and the digest says so; the
    secretariat is not told to contact itself; a visit's phone is given once."""
    only_lead = {CD1: ["四川师范大学"]}
    rows = [row(1, "四川师范大学", CD1, at(6, 28), ["plan", "news", "video"],
                plan_info=visit("2024-07-10", "14:30") | {"contact": "张老师 028-84760000"})]
    d = build_district_digest(CD1, rows, only_lead[CD1], cfg, WEEK, NOW)
    text = digest_text(d, cfg)
    assert "朱寒野老师，您好！" in text and "无需再次报送" in text and "请汇总后报" not in text
    assert "尚未导入片区学校名单" in text and "已来信的学校均已报送" in text
    assert "已全部报送" not in text and "联系 张老师 028-84760000" in text
    assert "028-84760000 028-84760000" not in text
    full = digest_text(district(cfg), cfg)
    assert "尚未导入片区学校名单" not in full
    whole = digest_text(build_secretariat_digest(ROWS, SCHOOLS, cfg, WEEK, NOW), cfg)
    assert "如有疑问或需更正" not in whole and "如有疑问或需更正" in full


def test_a_mail_that_only_asks_is_listed_for_the_secretariat_to_answer(cfg):
    """"请问新闻稿发给谁？" with nothing attached is no material: no school's section lists it
    (a district leader has nothing to do with it), the secretariat's summary has it under
    待答复的来信提问 with the question itself."""
    ask = row(50, "西南财经大学", CD1, at(7, 3), [], evidence=[
        {"field": "kinds", "rule": "kind.question",
         "detail": "只是提问（“请问新闻稿发给片区组长还是秘书处？”），没有附件或链接 → 不计类型"}])
    rows = [*ROWS, ask]
    mine = build_district_digest(CD1, rows, SCHOOLS[CD1], cfg, WEEK, NOW)
    assert 50 not in [r["id"] for r in mine.items]
    whole = build_secretariat_digest(rows, SCHOOLS, cfg, WEEK, NOW)
    assert [r["id"] for r in whole.questions] == [50] and 50 not in [r["id"] for r in whole.items]
    text = digest_text(whole, cfg)
    assert "== 待答复的来信提问 ==" in text
    assert "西南财经大学：西南财经大学（请问新闻稿发给片区组长还是秘书处？）" in text
    assert "待答复的来信提问" not in digest_text(mine, cfg)


def test_a_mail_recorded_after_a_digest_is_in_the_next_one_however_old(cfg):
    """四川师范大学's plan arrived on 6-30 but was recorded only on 7-9 (the mailbox was
    unreachable): the digest of the week it was recorded lists it; the week it arrived in,
    digested before it was recorded, did not."""
    late = row(40, "四川师范大学", CD1, at(6, 30), ["plan"],
               recorded_at=datetime(2024, 7, 9, 8, 0, tzinfo=TZ).isoformat())
    first = Period(datetime(2024, 6, 24, tzinfo=TZ), WEEK.start)
    assert [r["id"] for r in district(cfg, period=first, rows=[late]).items] == []
    nxt = Period(WEEK.end, datetime(2024, 7, 15, tzinfo=TZ))
    assert [r["id"] for r in district(cfg, period=nxt, rows=[late]).items] == [40]
    # recorded in the minute before a digest (SETTLE): listed once, by the digest that saw
    # it; one committed only as that digest read (unseen) is in the next
    edge = {**late, "recorded_at": datetime(2024, 7, 14, 23, 59, 30, tzinfo=TZ).isoformat()}
    assert settling([edge], nxt.end) == [40]
    for seen, lists in (({40}, [[40], []]), (set(), [[], [40]])):
        after = Period(nxt.end, datetime(2024, 7, 22, tzinfo=TZ), frozenset(seen))
        rows = [edge] if seen else []  # the first digest read before its commit
        assert [[r["id"] for r in district(cfg, period=nxt, rows=rows).items],
                [r["id"] for r in district(cfg, period=after, rows=[edge]).items]] == lists


def test_the_secretariat_hears_of_mail_waiting_for_it_and_reminders_go_while_schools_owe(cfg):
    from mailbot.jobs import reminder_day
    quiet = Period(at(7, 20), at(7, 21))
    nothing = district(cfg, period=quiet)
    assert not nothing.news and nothing.chasing  # 成都体育学院 owes news, among others
    waiting = row(41, None, None, at(7, 20, 12), ["news"], status="needs_school")
    s = build_secretariat_digest([*ROWS, waiting], SCHOOLS, cfg, quiet, NOW)
    assert s.items == () and s.news and [r["id"] for r in s.needs_school] == [41]
    days = [p.due - timedelta(days=cfg.digest.reminder_days_before)
            for p in cfg.campaign.phases if p.due]
    assert days and all(reminder_day(cfg, datetime.combine(d, time(9), TZ)) for d in days)
    assert not reminder_day(cfg, datetime.combine(days[0] + timedelta(days=1), time(9), TZ))


def test_a_revised_plan_moves_the_visit_on_the_calendar(cfg):
    revised = row(42, "四川师范大学", CD1, at(7, 6), ["plan"],
                  plan_info=visit("2024-07-17", "09:30", "四川师范大学成龙校区"))
    before = {v.host_school: v for v in district(cfg).visits}["四川师范大学"]
    d = district(cfg, rows=[*ROWS, revised])
    moved = [v for v in d.visits if v.host_school == "四川师范大学"]
    assert [(v.date, v.submission_id) for v in moved] == [("2024-07-17", 42)]
    old, new = (next(e for e in icalendar.Calendar.from_ical(visits_ics(x, cfg)).walk("VEVENT")
                     if "四川师范大学" in str(e["summary"])) for x in (district(cfg), d))
    assert str(old["uid"]) == str(new["uid"]) and new["sequence"] > old["sequence"]
    assert before.date == "2024-07-10"
    # moved into the past (or the first plan's date passed): no visit is shown
    gone = row(43, "四川师范大学", CD1, at(7, 7), ["plan"], plan_info=visit("2024-07-05"))
    assert "四川师范大学" not in [v.host_school for v in district(cfg, rows=[*ROWS, gone]).visits]


def test_what_senders_wrote_stays_text_in_the_workbook(cfg):
    trap = row(44, "西南财经大学", CD1, at(7, 4), ["news"], subject='=HYPERLINK("http://x.cn","点")',
               attachments=[att("=1+1.jpg", "a/photo.jpg", "image/jpeg", "t" * 64)])
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_summary(district(cfg, rows=[*ROWS, trap]))))["明细"]
    cells = [c for r in sheet.iter_rows(min_row=2) for c in r if str(c.value).startswith("=")]
    assert {c.value for c in cells} >= {'=HYPERLINK("http://x.cn","点")', "=1+1.jpg"} and \
        all(c.data_type == "s" for c in cells)


def test_the_secretariat_digest_has_one_name(cfg):
    mail = digest_mail(secretariat(cfg), cfg, "344523819@qq.com", [], read)
    body = mail.get_body(("plain",)).get_content()
    xlsx = next(p.get_filename() for p in mail.iter_attachments())
    assert "全省材料汇总" in str(mail["Subject"]) and "全省材料汇总" in body and \
        xlsx.startswith("全省材料汇总-")
    assert "秘书处材料汇总" not in str(mail["Subject"]) + body + xlsx


def test_a_leader_is_told_how_many_mails_were_accepted_not_of_mails_it_never_sees(cfg):
    d = district(cfg, CN)  # 宜宾学院's plan, 西南医科大学's ignored mail, a quarantined one
    assert (d.totals["messages"], d.totals["accepted"]) == (3, 1)
    for text in (digest_text(d, cfg), digest_html(d, cfg, {})):
        assert "已受理邮件 1 封；" in text and "邮件 3 封" not in text
    assert "邮件 7 封：已受理 4，待确认学校 1，已忽略 1，已隔离 1；" in digest_text(secretariat(cfg), cfg)


def test_a_reply_completing_an_earlier_submission_shows_it_updated(cfg):
    """四川师范大学's plan (#1, digested before) gets the missing 活动流程 and a photo by a
    reply to its receipt this week: the leader and the secretariat see #1 as it stands now."""
    from mailbot.rows import merged_into
    done = {**ROWS[0], "recorded_at": at(6, 28).isoformat(), "plan_missing": [],
            "attachments": [att("修订方案.docx", "a/news.docx", "application/x", "r" * 64)]}
    reply = row(45, None, None, at(7, 3), [], status="ignored", sender="12345@qq.com",
                status_reason=f"回复回执 JLX2024-0001，已并入 #1 {merged_into(1)}",
                recorded_at=at(7, 3).isoformat())
    rows = [done, *ROWS[1:], reply]
    d = district(cfg, rows=rows)
    assert [r["id"] for r in d.updated] == [1] and d.news
    text = digest_text(d, cfg)
    assert "== 本期更新" in text and "四川师范大学" in text.partition("== 本期更新")[2]
    assert "本期更新" in digest_html(d, cfg, {})
    assert [r["id"] for r in build_secretariat_digest(rows, SCHOOLS, cfg, WEEK, NOW).updated] == [1]
    assert district(cfg, CN, rows=rows).updated == ()  # not 川南's
    later = Period(WEEK.end, datetime(2024, 7, 15, tzinfo=TZ))
    assert district(cfg, period=later, rows=rows).updated == ()  # that reply was last week
