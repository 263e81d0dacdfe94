"""A district leader's files of its schools: which files go to which school (pure)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.classify.credits import credited_files, credits
from mailbot.classify.directory import load_directory
from mailbot.parse import parse_message

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = load_directory(ROOT / "rules" / "schools.toml")
LEADER = "四川轻化工大学"  # 川南片区's lead school


def mail(*files: str, inline: str = "") -> object:
    msg = EmailMessage()
    msg["From"] = "hqjjc@suse.edu.cn"
    msg["Subject"] = "片区材料"
    msg.set_content("附件是我片区各校的材料，请查收。")
    for name in files:
        msg.add_attachment(b"PK\x03\x04", maintype="application", subtype="octet-stream",
                           filename=name)
    if inline:
        msg.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename=inline,
                           disposition="inline")
    return parse_message(msg.as_bytes())


def named(found) -> dict[str, list[str]]:
    return {school: [a.filename for a in files] for school, files in found.items()}


def test_each_file_goes_to_the_one_school_its_name_gives():
    msg = mail("宜宾学院新闻稿.docx", "西南医科大学活动方案.docx", "宜宾学院照片.jpg", "汇总表.xlsx")
    assert named(credited_files(msg, DIRECTORY, LEADER)) == {
        "宜宾学院": ["宜宾学院新闻稿.docx", "宜宾学院照片.jpg"],
        "西南医科大学": ["西南医科大学活动方案.docx"]}


@pytest.mark.parametrize("files, sender", [
    (("宜宾学院新闻稿.docx",), "四川大学"),              # not a lead school: its mail stays its own
    (("宜宾学院新闻稿.docx",), None),                    # sender unknown
    (("参观宜宾学院校史馆新闻稿.docx",), LEADER),         # a place visited, not whose file it is
    (("宜宾学院与西南医科大学联合活动.docx",), LEADER),   # two schools: nobody's alone
    (("四川轻化工大学新闻稿.docx",), LEADER),             # the leader's own
    (("四川轻化工大学接待宜宾学院来访新闻稿.docx",), LEADER),  # the leader's own, naming a guest
    (("四川师范大学新闻稿.docx",), LEADER),               # a school of another district
    (("成体系推进后勤工作方案.docx",), LEADER),           # "成体" (成都体育学院) starts a word
    (("川大新闻稿.docx",), LEADER),                      # a short alias: too easily a word part
])
def test_no_credit(files, sender):
    assert credited_files(mail(*files), DIRECTORY, sender) == {}


def test_inline_images_are_never_credited():
    assert credited_files(mail(inline="宜宾学院logo.png"), DIRECTORY, LEADER) == {}


def test_credits_judge_each_schools_files_alone_and_keep_the_rest_for_the_leader():
    seen = []

    def judge(view):
        seen.append((view.subject, view.text, [a.filename for a in view.attachments]))
        return {"kinds": ("news",)}

    msg = mail("宜宾学院新闻稿.docx", "汇总表.xlsx")
    found, rest = credits(msg, DIRECTORY, LEADER, judge)
    assert [(c.school, c.district, c.kinds, c.files) for c in found] == [
        ("宜宾学院", "川南片区", ("news",), ("宜宾学院新闻稿.docx",))]
    assert seen == [("", "", ["宜宾学院新闻稿.docx"])]
    assert [a.filename for a in rest.attachments] == ["汇总表.xlsx"] and rest.text == msg.text
    assert credits(msg, DIRECTORY, "四川大学", judge) == ((), msg)


def test_the_engine_judges_each_credit_on_its_own_files_and_date():
    """Labelled mail 59 (宜宾学院's news and photo, 西南医科大学's plan) received after the
    video deadline but before the others: neither credit is late; a plan sent as a photo
    is unreadable, not missing all six fields."""
    from datetime import UTC, datetime, timedelta

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    cfg = config.load(ROOT / "config.example.toml")
    rules = load_rulebook(cfg.rules_dir)
    raw = (ROOT / "tests/data/labelled/59_suse_leader_attaches_schools_files.eml").read_bytes()
    msg = parse_message(raw)
    when = msg.date + timedelta(hours=1)
    v = classify(msg, rules, cfg.campaign, when)
    assert [(c.school, c.kinds, c.late, c.plan_missing) for c in v.credits] == [
        ("宜宾学院", ("news",), False, ()), ("西南医科大学", ("plan",), False, ("活动流程",))]
    assert v.credits[1].plan_info["visit_date"] == "2024-07-18" and v.kinds == ()
    # no Date header: judged by arrival, 10 November, after both deadlines (31 October)
    undated = mail("宜宾学院新闻稿.docx", "宜宾学院照片.jpg", "西南医科大学活动方案.docx")
    late = classify(undated, rules, cfg.campaign, datetime(2024, 11, 10, tzinfo=UTC))
    assert [(c.school, c.kinds, c.late) for c in late.credits] == [
        ("宜宾学院", ("news",), True), ("西南医科大学", ("plan",), True)]
    assert any(e.rule == "credit" and "逾期" in e.detail for _, e in late.evidence)
    photo = mail("西南医科大学活动方案.jpg")
    (credit,) = classify(photo, rules, cfg.campaign, when).credits
    assert (credit.kinds, credit.plan_missing) == (("plan",), ())


def text_mail(body: str) -> object:
    msg = EmailMessage()
    msg["From"] = "hqjjc@suse.edu.cn"
    msg["Subject"] = "川南片区视频及推文汇总"
    msg.set_content(body)
    return parse_message(msg.as_bytes())


URL = r"https?://\S+"


def urls(line: str) -> list[str]:
    import re
    return re.findall(URL, line)


def test_a_leaders_list_of_its_schools_links_credits_each_line_to_its_school():
    msg = text_mail("现将川南片区各校视频链接汇总如下：\n"
                    "1. 宜宾学院：https://b23.tv/AAA\n"
                    "2. 西南医科大学\nhttps://v.douyin.com/BBB/\nhttps://v.douyin.com/CCC/\n"
                    "3. 四川轻化工大学：https://mp.weixin.qq.com/s/DDD\n"
                    "另：参观宜宾学院的报道 https://mp.weixin.qq.com/s/EEE\n"
                    "宜宾学院和西南医科大学联合活动 https://b23.tv/FFF\n"
                    "4. 四川师范大学：https://b23.tv/GGG\n"
                    "请查收。\nhttps://b23.tv/HHH\n")
    found, rest = credits(msg, DIRECTORY, LEADER, lambda view: {"kinds": ("video",)}, urls)
    assert [(c.school, c.links) for c in found] == [
        ("宜宾学院", ("https://b23.tv/AAA",)),
        ("西南医科大学", ("https://v.douyin.com/BBB/", "https://v.douyin.com/CCC/"))]
    for url in ("AAA", "BBB", "CCC"):
        assert url not in rest.text
    for kept in ("DDD", "EEE", "FFF", "GGG", "HHH", "汇总如下"):  # the leader's own, a visit,
        assert kept in rest.text  # two schools, another district's, after a line of text
    assert credits(msg, DIRECTORY, "四川大学", lambda view: {}, urls) == ((), msg)


def test_a_schools_links_labelled_by_kind_below_its_name_stay_its_own():
    """"宜宾学院：" then "视频：…" and "推文：…": a link's label names no new topic, so the
    school's run goes on; a line of text ("请查收") still ends it."""
    msg = text_mail("各校视频及推文链接如下：\n宜宾学院：\n视频：https://b23.tv/AAA\n"
                    "推文：https://mp.weixin.qq.com/s/BBB\n西南医科大学：\n抖音：https://v.douyin.com/CCC/\n"
                    "请查收。\nhttps://b23.tv/DDD\n")
    found, rest = credits(msg, DIRECTORY, LEADER, lambda view: {"kinds": ("video",)}, urls)
    assert [(c.school, c.links) for c in found] == [
        ("宜宾学院", ("https://b23.tv/AAA", "https://mp.weixin.qq.com/s/BBB")),
        ("西南医科大学", ("https://v.douyin.com/CCC/",))]
    assert "DDD" in rest.text


def test_the_engine_credits_a_leaders_links_and_the_leader_keeps_only_its_own():
    """Helper-found case: 四川轻化工大学 lists its schools' video and WeChat links, one school a
    line, and its own last: each school is credited with the video deliverable (the
    status table and digests show it sent), the leader with its own link only."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook
    from mailbot.progress import per_school
    from mailbot.rows import verdict_values

    cfg = config.load(ROOT / "config.example.toml")
    msg = parse_message((ROOT / "tests/data/leader_links_of_its_schools.eml").read_bytes())
    v = classify(msg, load_rulebook(cfg.rules_dir), cfg.campaign, datetime(2024, 9, 20, tzinfo=UTC))
    assert v.school == LEADER and v.kinds == ("video",) and len(v.links) == 4
    assert [(c.school, c.kinds, len(c.links)) for c in v.credits] == [
        ("宜宾学院", ("video",), 1), ("内江师范学院", ("video",), 1), ("西南医科大学", ("video",), 1)]
    values, links = verdict_values(v, "accepted", "")
    row = {**values, "id": 1, "links": links, "attachments": [], "subject": "", "sender": ""}
    rows = {r["school"]: r for r in per_school([row])}
    assert [ln["url"] for ln in rows[LEADER]["links"]] == ["https://mp.weixin.qq.com/s/Su1xSu2xSu3xSu4xSu5xSu"]
    assert [ln["platform"] for ln in rows["内江师范学院"]["links"]] == ["bilibili"]
    assert rows["宜宾学院"]["kinds"] == ["video"] and rows["宜宾学院"]["credited_by"] == LEADER


def test_a_schools_links_below_its_name_as_mail_clients_write_them():
    """The link on the line below the school's name still counts when QQ Mail wrapped it in
    its safety redirect, when a full stop ends it, when a share's password follows it, and
    in an HTML-only mail whose paragraphs come out with blank lines between them."""
    from datetime import UTC, datetime
    from urllib.parse import quote

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    cfg = config.load(ROOT / "config.example.toml")
    rules = load_rulebook(cfg.rules_dir)
    wx = "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv"
    lines = ["各校链接如下：", "宜宾学院：",
             "https://mail.qq.com/cgi-bin/readtemplate?t=safety&check=false&gourl=" + quote(wx, safe=""),
             "西南医科大学：", "https://www.bilibili.com/video/BV1Nj411x7Ab。",
             "内江师范学院视频（百度网盘）：", "链接：https://pan.baidu.com/s/1AbCdEfGh 提取码：ab12"]
    plain = text_mail("\n".join(lines))
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "hqjjc@suse.edu.cn", "川南片区视频汇总"
    msg.set_content("".join(f"<p>{ln}</p>\n" for ln in lines), subtype="html")
    for m in (plain, parse_message(msg.as_bytes())):
        v = classify(m, rules, cfg.campaign, datetime(2024, 9, 20, tzinfo=UTC))
        assert [(c.school, c.kinds) for c in v.credits] == [
            ("宜宾学院", ("video",)), ("西南医科大学", ("video",)), ("内江师范学院", ("video",))]
        assert v.credits[0].links == (wx,) and v.kinds == ()


def test_a_schools_link_behind_an_anchor_in_the_leaders_html_is_its_own():
    """"宜宾学院：<a href=…>点击观看</a>": the plain text (QQ Mail's alternative, or the
    HTML's) says only "点击观看"; the anchor's address is that school's link all the same."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    cfg = config.load(ROOT / "config.example.toml")
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "hqjjc@suse.edu.cn", "川南片区视频汇总"
    msg.set_content("各校视频如下：\n宜宾学院：点击观看\n西南医科大学：点击观看\n请查收。")
    msg.add_alternative(
        "<p>各校视频如下：</p><p>宜宾学院：<a href=\"https://b23.tv/AbCdEf1\">点击观看</a></p>"
        "<p>西南医科大学：<a href=\"https://v.douyin.com/iRNBho6u/\">点击观看</a></p>"
        "<p>请查收。<a href=\"https://www.suse.edu.cn/\">四川轻化工大学</a></p>", subtype="html")
    v = classify(parse_message(msg.as_bytes()), load_rulebook(cfg.rules_dir), cfg.campaign,
                 datetime(2024, 9, 20, tzinfo=UTC))
    assert [(c.school, c.kinds, c.links) for c in v.credits] == [
        ("宜宾学院", ("video",), ("https://b23.tv/AbCdEf1",)),
        ("西南医科大学", ("video",), ("https://v.douyin.com/iRNBho6u/",))]
    assert v.kinds == ()  # the leader itself sent no video


def test_a_leader_forwarding_one_schools_mail_and_attaching_others_files_credits_each():
    """四川轻化工大学 forwards 宜宾学院's news (the mail is 宜宾学院's) and attaches
    西南医科大学's plan and 内江师范学院's photo besides: those two files are credited to their
    schools, not taken for 宜宾学院's; a file naming 宜宾学院 stays with its mail."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    cfg = config.load(ROOT / "config.example.toml")
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "hq_dangzhibu@yibinu.edu.cn", "宜宾学院新闻稿"
    inner.set_content("新闻稿见正文：我校后勤党支部参观校史馆。\n宜宾学院后勤党支部")
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "hqjjc@suse.edu.cn", "转发：宜宾学院新闻稿"
    msg.set_content("转发宜宾学院新闻稿，另附两校材料。")
    msg.add_attachment(inner)
    for name in ("西南医科大学活动方案.docx", "内江师范学院照片.jpg", "宜宾学院照片2.jpg"):
        msg.add_attachment(b"PK\x03\x04", maintype="application", subtype="octet-stream",
                           filename=name)
    v = classify(parse_message(msg.as_bytes()), load_rulebook(cfg.rules_dir), cfg.campaign,
                 datetime(2024, 9, 20, tzinfo=UTC))
    assert v.school == "宜宾学院"
    assert [(c.school, c.files) for c in v.credits] == [
        ("西南医科大学", ("西南医科大学活动方案.docx",)), ("内江师范学院", ("内江师范学院照片.jpg",))]


def test_a_leaders_html_anchors_leave_the_leader_only_its_own():
    """The lines of an HTML mail credited to a school leave the leader's text too (the
    leader's own file is judged without them); an anchor showing its own address (a
    trailing "/" more in the href) is one link, not two."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    cfg = config.load(ROOT / "config.example.toml")
    rules = load_rulebook(cfg.rules_dir)
    news = EmailMessage()
    news["From"], news["Subject"] = "hqjjc@suse.edu.cn", "川南片区材料"
    news.set_content("请查收宜宾学院的新闻稿：点击阅读\n附件是我校的材料。")
    news.add_alternative("<div>请查收宜宾学院的新闻稿：<a href=\"https://mp.weixin.qq.com/s/AAAA1111\">"
                         "点击阅读</a></div><div>附件是我校的材料。</div>", subtype="html")
    news.add_attachment(b"PK\x03\x04", maintype="application", subtype="octet-stream",
                        filename="材料.docx")
    video = EmailMessage()
    video["From"], video["Subject"] = "hqjjc@suse.edu.cn", "川南片区视频"
    video.set_content("宜宾学院：https://v.douyin.com/iRNBho6u\n签名")
    video.add_alternative("<p>宜宾学院：<a href=\"https://v.douyin.com/iRNBho6u/\">"
                          "https://v.douyin.com/iRNBho6u</a></p><p>签名</p>", subtype="html")
    when = datetime(2024, 9, 20, tzinfo=UTC)
    v = classify(parse_message(news.as_bytes()), rules, cfg.campaign, when)
    assert [c.school for c in v.credits] == ["宜宾学院"] and v.kinds == ()
    v = classify(parse_message(video.as_bytes()), rules, cfg.campaign, when)
    assert [(c.school, len(c.links)) for c in v.credits] == [("宜宾学院", 1)] and v.kinds == ()
    from mailbot.progress import per_school
    from mailbot.rows import verdict_values
    values, links = verdict_values(v, "accepted", "")
    row = {**values, "id": 1, "links": links, "attachments": [], "subject": "", "sender": ""}
    by_school = {r["school"]: r for r in per_school([row])}
    assert list(by_school) == ["宜宾学院"] and len(by_school["宜宾学院"]["links"]) == 1


def test_a_schools_mail_a_leader_forwards_inline_keeps_its_own_links():
    """A leader forwards 宜宾学院's mail inline (QQ Mail's "原始邮件" block); the school's
    own words name a partner school beside its video: the video stays 宜宾学院's."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    cfg = config.load(ROOT / "config.example.toml")
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "hqjjc@suse.edu.cn", "转发：宜宾学院接力行视频"
    msg.set_content("请查收宜宾学院的材料。\n\n------------------ 原始邮件 ------------------\n"
                    "发件人: \"宜宾学院后勤处\"<hq_dangzhibu@yibinu.edu.cn>;\n"
                    "发送时间: 2024年9月18日(星期三) 上午10:00\n"
                    "收件人: \"川南片区\"<hqjjc@suse.edu.cn>;\n主题: 宜宾学院接力行视频\n\n"
                    "您好，我校与内江师范学院后勤联合拍摄的视频：https://b23.tv/AbCdEf1\n宜宾学院后勤处\n")
    v = classify(parse_message(msg.as_bytes()), load_rulebook(cfg.rules_dir), cfg.campaign,
                 datetime(2024, 9, 20, tzinfo=UTC))
    assert (v.school, v.kinds, v.credits) == ("宜宾学院", ("video",), ())
