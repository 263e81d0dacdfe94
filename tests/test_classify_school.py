"""Which school sent a message: one case per rule, on the shipped rules/schools.toml."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

import pytest

from mailbot.classify.directory import Directory, DirectoryError, School, load_directory
from mailbot.classify.forwards import is_bundle, own_content
from mailbot.classify.school import SchoolMatch, find_school_by_name, identify_school
from mailbot.parse import parse_message

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "schools.toml"
DATA = ROOT / "tests" / "data"
DIRECTORY = load_directory(RULES)


def email(sender="hq2024@qq.com", name="", subject="材料报送", body="老师好，材料见附件。",
          files=(), forward: EmailMessage | None = None, more: tuple = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((name, sender))
    msg["To"] = "contact@scgxhq.test"
    msg["Subject"] = subject
    msg.set_content(body)
    for filename in files:
        msg.add_attachment(b"PK\x03\x04", maintype="application", subtype="octet-stream",
                           filename=filename)
    for inner in (forward, *more) if forward is not None else ():
        msg.add_attachment(inner)  # message/rfc822
    return msg


def parsed(**kw):
    return parse_message(email(**kw).as_bytes())


NOTICE_REPLY = """贺老师好，方案见附件。

------------------ 原始邮件 ------------------
发件人: "思政会秘书处"<344523819@qq.com>;
发送时间: 2024年6月25日(星期二) 上午9:21
收件人: "各会员单位"<undisclosed-recipients>;
主题: 关于开展接力行的通知

六、联系方式
成都第一片区：四川师范大学后勤服务管理中心 朱寒野
成都第二片区：成都大学后勤处 唐勇
"""
LEADER_REPLY = """王老师好，新闻稿见附件。

------------------ 原始邮件 ------------------
发件人: "川南片区组长"<hqjjc@suse.edu.cn>;
发送时间: 2024年7月8日(星期一) 上午9:21
收件人: "川南片区各校"<undisclosed-recipients>;
主题: 关于报送接力行新闻稿的通知

请各校报送新闻稿。

四川轻化工大学后勤基建处
"""
QQ_FORWARD = """请审阅。

------------------ 原始邮件 ------------------
发件人: "达职院后勤"<hq8812@qq.com>;
发送时间: 2024年9月10日(星期二) 上午10:21
收件人: "川职院后勤"<hqcyc@scvtc.edu.cn>;
主题: 达州职业技术学院后勤2024亮点视频

老师好，视频链接：https://www.bilibili.com/video/BV1xx
"""
OUTLOOK_ZH_FORWARD = """转发给您，请审阅。

发件人: 王老师 <hqfw@sicau.edu.cn>
发送时间: 2024年7月5日 10:00
收件人: 成都大学后勤处 <hqc@cdu.edu.cn>
主题: 新闻稿

新闻稿见正文。
四川农业大学后勤服务总公司
"""
FOXMAIL_FORWARD = """您好：转发如下。

-----原始邮件-----
发件人："宜宾学院后勤" <hq_dangzhibu@yibinu.edu.cn>
发送时间：2024年10月8日 17:50
收件人："川南组长" <hqjjc@suse.edu.cn>
主题：参观校史馆新闻稿

新闻稿如下……
"""
OUTLOOK_EN_FORWARD = """FYI

-----Original Message-----
From: Li Lei [mailto:hq@swjtu.edu.cn]
Sent: Monday, July 8, 2024 9:00 AM
To: 344523819@qq.com
Subject: 活动方案

方案见附件。
"""
INNER = email("hq_dangzhibu@yibinu.edu.cn", "宜宾学院后勤党支部", "参观校史馆新闻稿",
              "新闻稿如下。\n\n宜宾学院后勤党支部")

# id, message, known senders, expected school, first evidence rule, text expected in
# the first evidence, text expected in some conflict (None: no conflicts)
CASES = [
    ("domain", parsed(sender="houqin@scu.edu.cn"), {}, "四川大学", "school.domain",
     "scu.edu.cn", None),
    ("subdomain", parsed(sender="zhang@mail.scu.edu.cn"), {}, "四川大学", "school.domain",
     "mail.scu.edu.cn（属 scu.edu.cn）", None),
    ("subdomain-label-boundary", parsed(sender="x@stu.tfswufe.edu.cn"), {}, "西南财经大学天府学院",
     "school.domain", "tfswufe.edu.cn", None),
    ("public-domain-not-used", parsed(sender="scu@qq.com"), {}, None, None, None, None),
    ("public-subdomain-not-used", parsed(sender="houqin@vip.163.com"), {}, None, None, None, None),
    ("confirmed-address", parsed(sender="12345678@qq.com"), {"12345678@qq.com": "成都大学"},
     "成都大学", "school.address", "曾确认为 成都大学", None),
    ("confirmed-address-beats-domain", parsed(sender="hq@scu.edu.cn"), {"hq@scu.edu.cn": "川大锦江"},
     "四川大学锦江学院", "school.address", "曾确认为 四川大学锦江学院", "scu.edu.cn"),
    ("alias-in-subject", parsed(subject="西南交大后勤党委活动方案"), {}, "西南交通大学",
     "school.name", "主题中出现“西南交大”", None),
    ("short-alias-token", parsed(subject="【新闻】川大后勤参观活动"), {}, "四川大学", "school.name",
     "“川大”", None),
    ("longest-name-wins", parsed(subject="四川大学锦江学院后勤新闻稿"), {}, "四川大学锦江学院",
     "school.name", "四川大学锦江学院", None),
    ("longest-name-wins-2", parsed(subject="成都理工大学工程技术学院活动方案"), {},
     "成都理工大学工程技术学院", "school.name", "成都理工大学工程技术学院", None),
    ("filename", parsed(files=["电子科技大学成都学院活动方案.docx"]), {}, "电子科技大学成都学院",
     "school.name", "附件名“电子科技大学成都学院活动方案.docx”", None),
    ("display-name", parsed(name="川师大后勤", subject="推文链接"), {}, "四川师范大学",
     "school.name", "发件人名称中出现“川师大”", None),
    ("signature", parsed(body="老师好，新闻稿见附件。\n\n成都信息工程大学后勤党总支\n2024年7月18日"), {},
     "成都信息工程大学", "school.name", "署名", None),
    ("visit-target-not-sender",
     parsed(subject="四川大学博物馆参观新闻稿",
            body="我校后勤党委赴四川大学博物馆参观学习。\n\n成都大学后勤处\n2024年7月5日"), {},
     "成都大学", "school.name", "署名中出现“成都大学”", None),  # a museum is a place
    ("museum-in-subject-is-a-place", parsed(name="西南民大后勤 张老师", subject="四川大学博物馆参观新闻稿"),
     {}, "西南民族大学", "school.name", "发件人名称中出现“西南民大”", None),
    ("plan-venue-is-a-place", parsed(subject="成都大学后勤处接力行活动方案",
                                     body="活动时间：2024年7月12日\n活动地点：四川大学博物馆"), {},
     "成都大学", "school.name", "主题中出现“成都大学”", None),
    ("visit-target-only", parsed(body="我们组织党员走进四川大学博物馆参观。"), {},
     None, None, None, None),
    ("no-false-alias-in-words", parsed(subject="四川大型活动", body="完成大量工作，形成体系。"), {},
     None, None, None, None),
    ("no-daxuesheng", parsed(subject="四川大学生运动会志愿服务"), {}, None, None, None, None),
    ("latin-alias-whole-word", parsed(subject="SCUT report", body="see www.scu.edu.cn"), {},
     None, None, None, None),
    ("localpart", parsed(sender="cdut_houqin@163.com"), {}, "成都理工大学", "school.localpart",
     "cdut", None),
    ("latin-alias-beside-chinese", parsed(files=["SWPU_新闻稿.docx", "活动方案-SWPU.docx"]), {},
     "西南石油大学", "school.name", "SWPU", None),
    ("latin-alias-glued-to-latin", parsed(files=["SWPU_news.docx", "hq-SWPU.docx", "SWPU-2024.doc"]),
     {}, None, None, None, None),
    ("forwarded-rfc822-lead", parsed(sender="hqjjc@suse.edu.cn", subject="转发：新闻稿",
                                     forward=INNER), {},
     "宜宾学院", "school.forwarded", "hq_dangzhibu@yibinu.edu.cn", "suse.edu.cn"),
    ("inline-qq-forward-lead", parsed(sender="hqcyc@scvtc.edu.cn", subject="转发：视频",
                                      body=QQ_FORWARD), {},
     "达州职业技术学院", "school.forwarded", "hq8812@qq.com", "scvtc.edu.cn"),
    ("outlook-zh-forward", parsed(sender="hqc@cdu.edu.cn", body=OUTLOOK_ZH_FORWARD), {},
     "四川农业大学", "school.forwarded", "hqfw@sicau.edu.cn", "cdu.edu.cn"),
    ("foxmail-forward", parsed(sender="hqjjc@suse.edu.cn", body=FOXMAIL_FORWARD), {},
     "宜宾学院", "school.forwarded", "yibinu.edu.cn", "suse.edu.cn"),
    ("outlook-en-forward-unknown-outer", parsed(body=OUTLOOK_EN_FORWARD), {},
     "西南交通大学", "school.forwarded", "hq@swjtu.edu.cn", None),
    ("forward-by-non-lead-keeps-sender", parsed(sender="houqin@scu.edu.cn", forward=INNER), {},
     "四川大学", "school.domain", "scu.edu.cn", "转发邮件的原发件人"),
    ("lead-forwards-without-original", parsed(sender="hqjjc@suse.edu.cn",
                                              subject="转发：宜宾学院新闻稿"), {},
     "四川轻化工大学", "school.domain", "suse.edu.cn", "主题中出现“宜宾学院”"),
    ("lead-visiting-another-school", parsed(sender="hqc@cdu.edu.cn", subject="四川大学博物馆参观新闻"),
     {}, "成都大学", "school.domain", "cdu.edu.cn", None),
    ("lead-reply-quote-is-not-a-forward", parsed(sender="hqjjc@suse.edu.cn", subject="回复：回执",
                                                 body=FOXMAIL_FORWARD), {},
     "四川轻化工大学", "school.domain", "suse.edu.cn", "yibinu.edu.cn"),
    ("reply-quoting-the-notice-names-no-school",
     parsed(subject="回复：关于开展接力行的通知", body=NOTICE_REPLY, files=["活动方案.docx"]), {},
     None, None, None, None),
    ("reply-quoting-a-leaders-request-names-no-school",
     parsed(subject="回复：关于报送接力行新闻稿的通知", body=LEADER_REPLY), {},
     None, None, None, None),
    ("conflict-recorded", parsed(sender="hq@scu.edu.cn", subject="成都大学后勤活动方案"), {},
     "四川大学", "school.domain", "scu.edu.cn", "主题中出现“成都大学”"),
    ("no-evidence", parsed(), {}, None, None, None, None),
]


@pytest.mark.parametrize("msg, known, school, rule, detail, conflict",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_identify_school(msg, known, school, rule, detail, conflict):
    m = identify_school(msg, DIRECTORY, known)
    assert m.school == school, m
    if school is None:
        assert m == SchoolMatch(None, None, (), ())
        return
    assert m.evidence[0].rule == rule
    assert detail in m.evidence[0].detail, m.evidence
    if conflict is None:
        assert m.conflicts == ()
    else:
        assert any(conflict in e.detail for e in m.conflicts), m.conflicts


def config_districts() -> dict[str, str]:
    config = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    return {d["name"]: d["lead_school"] for d in config["districts"]}


def test_districts_match_config():
    assert dict(DIRECTORY.leads) == config_districts()


@pytest.mark.parametrize("district, lead", config_districts().items())
def test_lead_schools_carry_their_district(district, lead):
    school = DIRECTORY.by_name[lead]
    assert school.district == district
    m = identify_school(parsed(sender=f"houqin@{school.domains[0]}"), DIRECTORY)
    assert (m.school, m.district) == (lead, district)


def test_other_schools_have_no_district():
    assert sum(1 for s in DIRECTORY.schools if s.district) == 8
    m = identify_school(parsed(sender="houqin@scu.edu.cn"), DIRECTORY)
    assert m.district == ""


NOTICE = NOTICE_REPLY + "川南片区：四川轻化工大学后勤基建处 李明\n"  # a district per line


@pytest.mark.parametrize("sender, school", [
    ("2894561730@qq.com", None),               # a QQ box: which school, the receipt asks
    ("hqjjc@suse.edu.cn", "四川轻化工大学"),     # a lead school: its own
    ("hq@xhu.edu.cn", "西华大学"),
])
def test_the_notice_forwarded_back_with_material_names_no_school(sender, school):
    """Schools often send their plan by forwarding the association's notice: the notice
    names a school per district in its contacts, from none by its address — it is not
    a school's mail, and gives none of them the material."""
    m = identify_school(parsed(sender=sender, subject="转发：关于开展接力行的通知",
                               body=NOTICE.replace("贺老师好，方案见附件。", "我校活动方案见附件。"),
                               files=["活动方案.docx"]), DIRECTORY)
    assert m.school == school
    assert not any(e.rule == "school.forwarded" for e in m.evidence)


def test_forward_from_lead_gives_leaders_district_to_unassigned_school():
    m = identify_school(parsed(sender="hqjjc@suse.edu.cn", forward=INNER), DIRECTORY)
    assert (m.school, m.district) == ("宜宾学院", "川南片区")
    assert any(e.rule == "school.district" for e in m.evidence)


def test_a_bundle_is_its_own_senders_and_its_mails_keep_the_leaders_district():
    """A leader forwarding two schools' mails at once: the bundle is the leader's own
    (not the first forward's school), and each mail, judged alone with the leader as
    the forwarder, takes the leader's district when its school has none."""
    other = email("hqglc@swmu.edu.cn", "西南医科大学后勤管理处", "活动方案", "方案见附件。")
    single, bundle = parsed(sender="hqjjc@suse.edu.cn", forward=INNER), \
        parsed(sender="hqjjc@suse.edu.cn", forward=INNER, more=(other,))
    assert (is_bundle(single), is_bundle(bundle)) == (False, True)
    assert own_content(single) == single and own_content(bundle).forwarded == ()
    m = identify_school(own_content(bundle), DIRECTORY)
    assert (m.school, m.district) == ("四川轻化工大学", "川南片区")
    m = identify_school(parse_message(INNER.as_bytes()), DIRECTORY,
                        forwarded_by="四川轻化工大学")
    assert (m.school, m.district, m.evidence[-1].rule) == ("宜宾学院", "川南片区", "school.district")
    alone = identify_school(parse_message(INNER.as_bytes()), DIRECTORY, forwarded_by="四川大学")
    assert (alone.school, alone.district) == ("宜宾学院", "")  # not a lead school: no district


def test_a_bundles_mail_naming_no_school_is_the_forwarding_schools_unless_a_leader_forwarded_it():
    """西华大学 forwards two of its staff's QQ mails at once: a mail that names no school is
    the forwarding school's (its staff's, evidence saying so); forwarded by a district lead
    school it could be any school of the district, and stays unrecognised."""
    staff = email("1234567@qq.com", "小王", "新闻稿", "新闻稿见附件，请查收。")
    m = identify_school(parse_message(staff.as_bytes()), DIRECTORY, forwarded_by="西华大学")
    assert m.school == "西华大学" and m.evidence[0].rule == "school.forwarded_by"
    assert "西华大学" in m.evidence[0].detail
    assert identify_school(parse_message(staff.as_bytes()), DIRECTORY,
                           forwarded_by="四川轻化工大学").school is None
    assert identify_school(parse_message(staff.as_bytes()), DIRECTORY).school is None
    own = identify_school(parse_message(INNER.as_bytes()), DIRECTORY, forwarded_by="西华大学")
    assert own.school == "宜宾学院"  # a mail that says its school keeps it


def test_a_leaders_request_forwarded_by_an_unknown_box_names_no_school():
    """A QQ box forwards its district leader's request ("转发：关于报送接力行新闻稿的通知")
    with its own news: it may be any school the leader wrote to (or the leader's own staff),
    so no school is taken — the receipt asks — and the evidence says why.  A known box, or a
    forward of a school that leads no district, is judged as before."""
    request = email("hqjjc@suse.edu.cn", "川南片区组长", "关于报送接力行新闻稿的通知",
                    "请各校报送新闻稿。\n\n四川轻化工大学后勤基建处")
    for msg in (parsed(subject="转发：关于报送接力行新闻稿的通知", body=LEADER_REPLY,
                       files=["新闻稿.docx"]),
                parsed(subject="转发：关于报送接力行新闻稿的通知", forward=request,
                       files=["新闻稿.docx"])):
        m = identify_school(msg, DIRECTORY)
        assert (m.school, m.evidence) == (None, ())
        assert [e.rule for e in m.conflicts] == ["school.forwarded_lead"]
        assert "四川轻化工大学" in m.conflicts[0].detail
    known = identify_school(parsed(subject="转发：关于报送接力行新闻稿的通知", forward=request),
                            DIRECTORY, {"hq2024@qq.com": "宜宾学院"})
    assert known.school == "宜宾学院"


def test_a_leader_forwarding_one_mail_that_names_no_school_is_not_credited_with_it():
    """The 川南 leader (suse.edu.cn) forwards one QQ box's news that names no school, as an
    attachment or inline: it is some school's of the district, not the leader's own — no
    school is taken (the receipt asks), as for a bundle's such mail.  Its own staff's mail
    (a suse.edu.cn address) stays the leader's; a reply quoting a box is not a forward."""
    staff = email("2345678@qq.com", "小王", "新闻稿", "王老师好，我校接力行新闻稿见附件。",
                  files=["新闻稿.docx"])
    inline = ("转发一所学校的新闻稿，请查收。\n\n---------- 转发的邮件 ----------\n"
              "发件人：小王 <2345678@qq.com>\n主题：新闻稿\n\n王老师好，我校接力行新闻稿见附件。")
    for msg in (parsed(sender="hqjjc@suse.edu.cn", subject="转发：新闻稿", forward=staff,
                       body="转发一所学校的新闻稿，请查收。"),
                parsed(sender="hqjjc@suse.edu.cn", subject="转发：新闻稿", body=inline,
                       files=["新闻稿.docx"])):
        m = identify_school(msg, DIRECTORY)
        assert m.school is None and [e.rule for e in m.conflicts] == ["school.lead_forwarded"]
        assert "四川轻化工大学" in m.conflicts[0].detail and "2345678@qq.com" in m.conflicts[0].detail
    colleague = email("wang@suse.edu.cn", "小王", "新闻稿", "新闻稿见附件。", files=["新闻稿.docx"])
    own = parsed(sender="hqjjc@suse.edu.cn", subject="转发：新闻稿", forward=colleague)
    assert identify_school(own, DIRECTORY).school == "四川轻化工大学"
    reply = parsed(sender="hqjjc@suse.edu.cn", subject="回复：新闻稿", body=inline)
    assert identify_school(reply, DIRECTORY).school == "四川轻化工大学"
    other = parsed(sender="hq@xhu.edu.cn", subject="转发：新闻稿", forward=staff)
    assert identify_school(other, DIRECTORY).school == "西华大学"  # leads no district


def test_registered_address_in_directory():
    schools = tuple(replace(s, addresses=("77777@qq.com",)) if s.name == "成都大学" else s
                    for s in DIRECTORY.schools)
    directory = Directory(schools, DIRECTORY.public_domains, DIRECTORY.leads)
    m = identify_school(parsed(sender="77777@QQ.com"), directory)
    assert (m.school, m.district, m.evidence[0].rule) == ("成都大学", "成都第二片区", "school.address")


@pytest.mark.parametrize("text, school", [
    ("学校：成都大学", "成都大学"), ("川大", "四川大学"), ("成都理工", "成都理工大学"),
    ("四川大学锦江学院后勤", "四川大学锦江学院"), ("我们是成中医的", "成都中医药大学"),
    ("随便写写", None), ("", None),
])
def test_find_school_by_name(text, school):
    found = find_school_by_name(text, DIRECTORY)
    assert (found.name if found else None) == school


def test_rules_file_counts():
    assert len(DIRECTORY.schools) >= 150
    assert {"qq.com", "163.com", "gmail.com"} <= DIRECTORY.public_domains


@pytest.mark.parametrize("schools, problem", [
    ((School("甲大学", aliases=("甲大",)), School("乙大学", aliases=("甲大",))), "同时属于"),
    ((School("甲大学", domains=("a.edu.cn",)), School("乙大学", domains=("a.edu.cn",))), "同时属于"),
    ((School("甲大学", domains=("qq.com",)),), "公共邮箱"),
    ((School("甲大学", district="成都第九片区"),), "不存在"),
])
def test_directory_rejects_bad_data(schools, problem):
    with pytest.raises(DirectoryError, match=problem):
        Directory(schools, frozenset({"qq.com"}), {})


def test_load_directory_rejects_unknown_field(tmp_path):
    path = tmp_path / "schools.toml"
    path.write_text('[[school]]\nname = "甲大学"\nalias = ["甲大"]\n', encoding="utf-8")
    with pytest.raises(DirectoryError, match="未知字段 alias") as e:
        load_directory(path)
    assert e.value.problems[0].startswith(f"{path}: 第 1 个 [[school]]")


def test_an_alias_of_two_schools_is_reported_with_the_file_it_is_in(tmp_path):
    path = tmp_path / "schools.toml"
    path.write_text('[[school]]\nname = "甲大学"\naliases = ["甲大"]\n'
                    '[[school]]\nname = "乙大学"\naliases = ["甲大"]\n', encoding="utf-8")
    with pytest.raises(DirectoryError) as e:
        load_directory(path)
    assert e.value.problems == [f"{path}: 名称“甲大”同时属于 甲大学 和 乙大学"]


@pytest.mark.parametrize("where, school", [
    ({"subject": "西南民族大學後勤處 活動方案"}, "西南民族大学"),
    ({"name": "成都理工大學工程技術學院 後勤"}, "成都理工大学工程技术学院"),  # not 成都理工
    ({"name": "四川師範大學後勤黨委"}, "四川师范大学"),
    ({"body": "材料見附件。\n\n西南交通大學後勤保障處\n朱鎔"}, "西南交通大学"),
    ({"subject": "瀘州職業技術學院 活動方案"}, "泸州职业技术学院"),
    ({"body": "新聞稿見附件。\n綿陽師範學院後勤"}, "绵阳师范学院"),
])
def test_a_school_named_in_traditional_characters_is_recognised(where, school):
    """A name typed in Traditional characters is matched to the directory's Simplified one."""
    m = identify_school(parsed(**where), DIRECTORY)
    assert m.school == school, m


def test_traditional_qq_mail_fixture_names_its_school_not_the_museum_visited():
    """The signature 西南民族大學後勤處 counts; 參觀四川大學博物館 is a place visited."""
    m = identify_school(parse_message((DATA / "qqmail_traditional_signature.eml").read_bytes()),
                        DIRECTORY)
    assert (m.school, m.evidence[0].rule) == ("西南民族大学", "school.name")
    assert "署名" in m.evidence[0].detail and m.conflicts == ()
    assert find_school_by_name("學校：西南民族大學", DIRECTORY).name == "西南民族大学"


def test_every_school_written_in_traditional_is_folded_back():
    """Each directory name, its characters replaced by their Traditional forms in the
    table, is found again: the table covers the names and turns nothing else."""
    back = {v: chr(k) for k, v in DIRECTORY.simplified.items()}
    for s in DIRECTORY.schools:
        written = "".join(back.get(c, c) for c in s.name)
        assert find_school_by_name(written, DIRECTORY).name == s.name, written


@pytest.mark.parametrize("pairs, problem", [
    ('"學学 師"', "应为两个不同的汉字"), ('"學学 學斈"', "出现了两次"), ("3", "应为两个不同的汉字"),
])
def test_load_directory_rejects_a_bad_traditional_table(tmp_path, pairs, problem):
    (tmp_path / "schools.toml").write_text('[[school]]\nname = "甲大学"\n', encoding="utf-8")
    (tmp_path / "traditional.toml").write_text(f"pairs = {pairs}\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match=problem):
        load_directory(tmp_path / "schools.toml")


@pytest.mark.parametrize("written, school", [
    ("成工贸职院", "成都工贸职业技术学院"), ("成工职院", "成都工业职业技术学院"),
    ("西华师范", "西华师范大学"), ("川大锦城学院", "成都锦城学院"),
    ("西南交大希望学院", "西南交通大学希望学院"), ("川音绵阳艺术学院", "四川文化艺术学院"),
    ("西科大", "西南科技大学"), ("达职院", "达州职业技术学院"), ("宜宾职院", "宜宾职业技术学院"),
])
def test_a_short_name_is_not_swallowed_by_a_shorter_one(written, school):
    """成工贸 is not 成工 (成都工业学院), 川大锦城学院 not 川大: the longer name wins."""
    m = identify_school(parsed(subject=f"{written}后勤新闻稿"), DIRECTORY)
    assert m.school == school, m


@pytest.mark.parametrize("quote", [
    ("\n\n发自我的iPhone\n\n> 在 2024年7月8日，09:21，川南片区组长 <hqjjc@suse.edu.cn> 写道：\n> \n"
    "> 各位老师：请按时报送。\n> \n> 四川轻化工大学后勤处\n> 王老师 0813-5505123\n"),
    ("\n\nOn Mon, 8 Jul 2024 at 09:21, 川南片区组长 <hqjjc@suse.edu.cn> wrote:\n"
    "> 各位老师：请按时报送。\n> 四川轻化工大学后勤处\n")])
def test_a_replys_quote_without_a_header_block_names_no_school(quote):
    """iPhone Mail, Gmail and Thunderbird quote with "在…写道：" / "On … wrote:" and ">" lines,
    no 发件人/主题 block: the leader's school in the quote is not the replier's."""
    from mailbot.classify.kinds import load_kind_rules
    kinds = load_kind_rules(ROOT / "rules" / "kinds.toml")
    msg = parsed(sender="2345678@qq.com", subject="回复：关于报送接力行新闻稿的通知",
                 body="老师好，我校新闻稿及照片见附件，请查收。" + quote)
    assert identify_school(msg, DIRECTORY, quote=kinds).school is None
    signed = parsed(sender="2345678@qq.com", subject="回复：关于报送接力行新闻稿的通知",
                    body="老师好，新闻稿见附件。\n宜宾学院后勤党支部" + quote)
    assert identify_school(signed, DIRECTORY, quote=kinds).school == "宜宾学院"
    real = parse_message((DATA / "reply_iphone_quotes_leader.eml").read_bytes())
    assert identify_school(real, DIRECTORY, quote=kinds).school is None
    # not a reply: a line of underscores opens the signature, which names the school
    plain = parsed(sender="2345678@qq.com", subject="新闻稿及照片",
                   body="新闻稿见附件。\n\n____________________\n四川大学后勤保障部 王老师")
    assert identify_school(plain, DIRECTORY, quote=kinds).school == "四川大学"
