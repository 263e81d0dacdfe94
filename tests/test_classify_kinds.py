"""What a mail delivers: plan / news / video, with evidence for each decision."""

from __future__ import annotations

import importlib.util
import io
import mimetypes
import tomllib
import zipfile
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.classify.evidence import Evidence
from mailbot.classify.forwards import own_content
from mailbot.classify.kinds import detect_kinds, load_kind_rules, sender_text
from mailbot.classify.plan import check_plan, document_text
from mailbot.errors import ConfigError
from mailbot.parse import ParsedMessage, forwarded_originals, parse_message

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
RULES = load_kind_rules(ROOT / "rules" / "kinds.toml")

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(30_000)  # a photo-sized JPEG
TINY = b"\x89PNG\r\n\x1a\n" + bytes(900)  # a signature-sized PNG
DOCX = b"PK\x03\x04" + bytes(200)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(500)

# The part of the notice (川高后思协〔2024〕2 号) that names all three deliverables,
# hard-wrapped as printed.
NOTICE = """各会员单位：
（三）参与方式
1.各高校后勤党组织精心策划，开展活动前将活动方案（模
板附后）分别在片区及思政联盟微信群发布。
3.做好宣传工作，展现各高校后勤学以致用的特色亮点。
（1）“七.一”后，将参观新闻图片及文档发给片区组长，
片区汇总后报思政会秘书处，秘书处将发布在思政会网站。
（2）“十.一”前，将学习感悟转化为实际行动，把展现
2024 年后勤新亮点新特色的视频或微信推文（含链接地址）发
片区组长，片区汇总后报思政会秘书处，秘书处将在思政会网站
及年会上展播。
附件：活动方案模板"""
QUOTE_HEAD = "发件人: \"思政会秘书处\"<344523819@qq.com>\n发送时间: 2024年6月25日(星期二) 上午10:00\n"


def mail(subject: str, text: str = "", attachments=(), forward: EmailMessage | None = None,
         raw: bool = False):
    """A real MIME message (EmailMessage) parsed by parse_message.  ``attachments`` are
    (filename, payload) or (filename, payload, "inline")."""
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "houqin@scu.edu.cn", "contact@scgxhq.test", subject
    m.set_content(text or "您好。")
    for name, payload, *inline in attachments:
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        main, sub = ctype.split("/")
        m.add_attachment(payload, maintype=main, subtype=sub, filename=name,
                         disposition="inline" if inline else "attachment")
    if forward is not None:
        m.add_attachment(forward)
    return m if raw else parse_message(m.as_bytes())


def kinds_of(msg: ParsedMessage, links=(), fields: int = 0) -> tuple[str, ...]:
    return detect_kinds(msg, RULES, links, fields)[0]


def zipped(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            z.writestr(name, PHOTO[:100])
    return buf.getvalue()


PLAN_BODY = ("活动背景：为深入学习贯彻党的二十大精神，传承校史文化，结合我校校史馆特色开展本次活动，"
             "组织后勤党员走进校史馆，了解学校发展历程，激发爱校荣校情怀。\n活动组织：成都大学后勤处党总支\n"
             "活动时间：2024年7月5日下午2:30\n活动地点：成都大学校史馆\n活动流程：集合、参观、座谈交流、合影留念\n"
             "活动联系人及电话：唐勇 028-84616643")
CASES = [  # id, message, expected kinds, a rule that must be in the evidence
    ("subject-plan", mail("【活动方案】四川大学后勤保障部博物馆接力行",
                          attachments=[("附件1.docx", DOCX)]), ("plan",), "kind.keyword"),
    ("subject-news", mail("西华大学后勤党委参观校史馆新闻稿", attachments=[("1.pdf", b"%PDF-1.4")]),
     ("news",), "kind.unnamed"),
    ("subject-video-cloud-link", mail("阿坝师范学院后勤视频（百度网盘）",
                                      "链接：https://pan.baidu.com/s/1xYnVF9c 提取码：8k3d"),
     ("video",), "kind.unnamed"),
    ("body-cloud-link", mail("西华大学后勤", "视频见百度网盘：https://pan.baidu.com/s/1AbCdEfGh 提取码：8k3d"),
     ("video",), "kind.unnamed"),
    ("subject-wechat-draft", mail("绵阳师范学院后勤微信推文", attachments=[("附件.docx", DOCX)]),
     ("video",), "kind.keyword"),
    ("subject-only-delivers-nothing", mail("四川大学活动方案"), (), "kind.ignored"),
    ("promise-delivers-nothing", mail("成都大学后勤处视频报送说明",
                                      "我处视频还在剪辑中，预计9月底前报送微信推文链接。"),
     (), "kind.none"),
    ("plan-body-promising-news", mail("成都大学后勤处接力行活动方案", "贺老师好！现将我处活动方案报送如下：\n"
                                      + PLAN_BODY + "\n活动结束后，我们将及时报送新闻稿和照片。"),
     ("plan",), "kind.keyword"),
    ("news-citing-the-plan-sent-before", mail(
        "四川大学后勤党委参观校史馆新闻稿",
        "7月5日下午，四川大学后勤党委按照此前报送的活动方案，组织党员职工40余人走进校史馆。"
        + "在讲解员的带领下，大家依次参观了各个展区，深入了解了学校的发展历程。" * 3
        + "\n（供稿：四川大学后勤党委　摄影：王磊）"), ("news",), "kind.keyword"),
    ("home-page-link-is-no-content", mail("四川大学活动方案", "四川大学后勤\nhttps://hq.scu.edu.cn/"),
     (), "kind.none"),
    ("long-body-news", mail("西华大学后勤参观校史馆新闻", "7月9日下午，西华大学后勤党委组织党员、"
                            "职工走进校史馆。" * 8), ("news",), "kind.keyword"),
    ("long-body-not-video", mail("西华大学后勤视频说明", "视频还在剪辑。" * 40), (), "kind.none"),
    ("photographed-plan", mail("四川大学活动方案", attachments=[("IMG_1.jpg", PHOTO)]),
     ("plan",), "kind.attachment"),
    ("unknown-file", mail("四川大学后勤", "请查收。", attachments=[("附件1.docx", DOCX)]),
     (), "kind.unknown"),
    ("executable-is-no-plan", mail("活动方案", attachments=[("活动方案.docx.exe", b"MZ")]),
     (), "kind.none"),
    ("three-photos", mail("四川大学后勤保障部", attachments=[
        ("IMG_0231.JPG", PHOTO), ("IMG_0232.JPG", PHOTO), ("IMG_0233.JPG", PHOTO)]),
     ("news",), "kind.attachment"),
    ("plan-docx-name", mail("四川大学后勤", attachments=[("四川大学活动方案.docx", DOCX)]),
     ("plan",), "kind.attachment"),
    ("plan-wps-name", mail("四川大学后勤", attachments=[("接力行策划.wps", DOCX)]),
     ("plan",), "kind.attachment"),
    ("news-doc-name", mail("四川大学后勤", attachments=[("参观校史馆通讯稿.pdf", b"%PDF-1.4")]),
     ("news",), "kind.attachment"),
    ("report-doc-name", mail("四川大学后勤", attachments=[("活动报道.docx", DOCX)]),
     ("news",), "kind.attachment"),
    ("video-file", mail("四川大学后勤", attachments=[("成信大后勤.MP4", MP4)]),
     ("video",), "kind.attachment"),
    ("video-sniffed", mail("四川大学后勤", attachments=[("未命名", MP4)]),
     ("video",), "kind.attachment"),
    ("zip-of-photos", mail("四川大学后勤资料", attachments=[
        ("资料.zip", zipped("a/1.jpg", "a/2.JPG"))]), ("news",), "kind.attachment"),
    ("signature-images", mail("四川大学后勤", attachments=[
        ("logo.png", PHOTO, "inline"), ("签名.jpg", PHOTO), ("image001.png", TINY, "inline")]),
     (), "kind.ignored"),
    ("big-inline-photo", mail("四川大学后勤", attachments=[("image002.jpg", PHOTO, "inline")]),
     ("news",), "kind.attachment"),
    ("byline", mail("四川大学后勤", "7月5日下午，后勤党员参观校史馆。\n（供稿：后勤保障部 摄影：黄蓉）"),
     ("news",), "kind.body"),
    ("body-cue", mail("四川大学后勤", "您好！附件是我校活动方案，请查收。",
                      attachments=[("附件1.docx", DOCX)]), ("plan",), "kind.keyword"),
    ("body-cue-beats-reply-subject", mail("回复：[回执 3] 四川大学活动方案",
                                          "附件是我校新闻稿，请审阅。",
                                          attachments=[("附件1.docx", DOCX)]),
     ("news",), "kind.unnamed"),
    ("body-no-cue", mail("四川大学后勤", "大家观看了宣传视频，深受教育。"), (), "kind.none"),
    ("qq-big-attachment", mail("成信大后勤", "从QQ邮箱发来的超大附件\n\n宣传.mp4 (128.03M, 2024年10月27日 到期)"),
     ("video",), "kind.attachment"),
    ("all-three", mail("视频、新闻稿和活动方案", attachments=[("IMG_1.jpg", PHOTO), ("1.docx", DOCX)]),
     ("plan", "news", "video"), "kind.unnamed"),
    ("only-what-is-there", mail("视频、新闻稿和活动方案", attachments=[("IMG_1.jpg", PHOTO)]),
     ("news",), "kind.ignored"),
    ("question-subject", mail("请问活动方案模板在哪里下载？"), (), "kind.question"),
    ("question-body", mail("咨询", "老师好！\n请问新闻稿发给谁？谢谢！"), (), "kind.question"),
    ("question-ascii-mark", mail("新闻稿", "请问是否需要盖章?"), (), "kind.question"),
    ("question-with-logo", mail("咨询", "请问新闻稿发给谁？", attachments=[("logo.png", PHOTO)]),
     (), "kind.question"),
    ("question-with-file", mail("请问这样的方案可以吗？", attachments=[("附件1.docx", DOCX)]),
     ("plan",), "kind.keyword"),
    ("reply-to-receipt", mail("回复：[回执 3] 四川大学活动方案", "收到，谢谢！"), (), "kind.ignored"),
    ("reply-to-receipt-with-file", mail("回复：[回执 3] 四川大学活动方案", "修改后的见附件。",
                                        attachments=[("附件1.docx", DOCX)]),
     ("plan",), "kind.keyword"),
    ("long-letter-promising-news", mail("成都中医药大学后勤活动方案", "各位老师好：" + "我处高度重视本次活动，"
                                         "精心组织党员职工参与。" * 5 + "\n现将活动方案报送如下，请审阅。"
                                         "\n活动结束后，我们会把新闻稿和现场照片发给片区组长。",
                                         attachments=[("活动方案.docx", DOCX)]), ("plan",), "kind.attachment"),
    # written in Traditional characters (a computer or phone set so)
    ("traditional-subject-plan", mail("四川大學後勤保障部活動方案", attachments=[("附件1.docx", DOCX)]),
     ("plan",), "kind.keyword"),
    ("traditional-news-doc-name", mail("四川大學後勤", attachments=[("參觀校史館新聞稿.docx", DOCX)]),
     ("news",), "kind.attachment"),
    ("traditional-body-cloud-link", mail("西華大學後勤", "視頻見百度網盤：https://pan.baidu.com/s/1AbCdEfGh "
                                         "提取碼：8k3d"), ("video",), "kind.unnamed"),
]


@pytest.mark.parametrize("msg, expect, rule", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_kinds(msg, expect, rule):
    kinds, evidence = detect_kinds(msg, RULES)
    assert kinds == expect
    assert rule in {e.rule for e in evidence}
    assert all(isinstance(e, Evidence) and e.detail for e in evidence)


def test_photos_are_named_in_one_piece_of_evidence():
    msg = mail("四川大学后勤", attachments=[(f"照片{i}.JPG", PHOTO) for i in range(5)])
    (ev,) = [e for e in detect_kinds(msg, RULES)[1] if e.rule == "kind.attachment"]
    assert ev.detail == "附件 照片0.JPG、照片1.JPG、照片2.JPG 等 5 张 为图片 → 新闻"


def test_video_links_from_the_link_detector_make_video():
    link = Evidence("link.wechat", "https://mp.weixin.qq.com/s/abc")
    kinds, evidence = detect_kinds(mail("四川大学后勤", "请审阅。"), RULES, [link])
    assert kinds == ("video",)
    assert Evidence("kind.link", "含链接 https://mp.weixin.qq.com/s/abc → 视频/推文") in evidence


def test_plan_fields_make_a_plan_of_an_anonymous_docx():
    msg = mail("四川大学后勤", attachments=[("附件1.docx", DOCX)])
    assert kinds_of(msg, fields=6) == ("plan",)
    assert kinds_of(msg, fields=2) == ()
    assert kinds_of(mail("请问模板第三项怎么填？"), fields=3) == ("plan",)  # a body-only plan


def test_a_byline_in_a_document_named_and_sent_with_no_word_of_its_kind_makes_news():
    """"接力行材料" with 材料.docx: its text "通讯员：张三" is a news story's byline.  A plan
    document naming who writes the news ("宣传报道：宣传科供稿") stays a plan only."""
    msg = mail("接力行材料", attachments=[("材料.docx", DOCX)])
    story = "接力行活动走进四川大学博物馆\n（通讯员：张三 摄影：李四）"
    kinds, evidence = detect_kinds(msg, RULES, documents=[story])
    assert kinds == ("news",) and any("通讯员" in e.detail for e in evidence)
    assert detect_kinds(msg, RULES, documents=["报名表"])[0] == ()
    plan = "活动流程：参观、座谈\n宣传报道：宣传科供稿"
    assert detect_kinds(msg, RULES, (), 6, documents=[plan])[0] == ("plan",)
    named = mail("接力行活动方案", attachments=[("方案.docx", DOCX)])
    assert detect_kinds(named, RULES, documents=[plan])[0] == ("plan",)


@pytest.mark.parametrize("quote", [
    "------------------ 原始邮件 ------------------\n" + QUOTE_HEAD,         # QQ Mail
    "-----原始邮件-----\n" + QUOTE_HEAD,                                       # Outlook (zh)
    "-----Original Message-----\nFrom: contact@scgxhq.test\nSent: Tuesday\n",  # Outlook (en)
    "________________________________\n" + QUOTE_HEAD,                         # Outlook web
    QUOTE_HEAD,                                                                # Foxmail
    '在 2024-06-25 10:00:00，"思政会秘书处" <344523819@qq.com> 写道：\n',     # 163 / Coremail
    "在 2024年6月25日，10:00，思政会秘书处 <344523819@qq.com>\n写道：\n",     # iPhone, wrapped
    "On Tue, Jun 25, 2024 at 10:00 AM 思政会秘书处 <344523819@qq.com> wrote:\n",
])
def test_a_reply_quoting_the_notice_has_only_the_senders_own_kind(quote):
    text = "老师好！附件是我校参观校史馆的照片，请查收。\n\n四川大学后勤\n\n" + quote + NOTICE
    msg = mail("回复：关于开展“道中华之美 美后勤之道”四川高校博物馆（校史馆）@接力行的通知", text,
               attachments=[("IMG_1.jpg", PHOTO)])
    assert kinds_of(msg) == ("news",)


def test_quote_lines_starting_with_gt_are_ignored():
    text = "附件是我校活动方案，请查收。\n" + "\n".join("> " + x for x in NOTICE.split("\n"))
    assert kinds_of(mail("回复：通知", text, attachments=[("附件1.docx", DOCX)])) == ("plan",)


def test_a_pasted_notice_without_quote_marker_is_discounted():
    text = "按照通知要求，现将我校活动方案报送如下，请审阅。\n\n" + NOTICE
    assert kinds_of(mail("四川大学后勤", text, attachments=[("附件1.docx", DOCX)])) == ("plan",)
    assert kinds_of(mail("关于开展接力行的通知", NOTICE)) == ()


def test_one_echoed_notice_phrase_is_still_the_senders_own_words():
    text = "现将我校新闻图片及文档报送如下，请审阅。"
    assert kinds_of(mail("四川大学后勤", text, attachments=[("1.docx", DOCX)])) == ("news",)


def test_forwarded_message_counts():
    inner = mail("宜宾学院后勤党支部参观校史馆新闻稿", "照片见附件。",
                 attachments=[("参观.jpg", PHOTO)], raw=True)
    kinds, evidence = detect_kinds(mail("转发", "请审阅。", forward=inner), RULES)
    assert kinds == ("news",)
    assert any(e.detail.startswith("转发邮件《宜宾学院") for e in evidence)


def test_inline_forward_keeps_the_original_subject():
    text = ("请审阅。\n\n-------- 转发邮件信息 --------\n发件人：宜宾学院后勤党支部\n"
            "发送日期：2024-10-08\n主题：宜宾学院后勤党支部“接力行”参观校史馆新闻稿\n\n"
            + "10月8日，宜宾学院后勤党支部组织党员参观校史馆，深入了解学校发展历程。" * 5)
    assert kinds_of(mail("转发：宜宾学院来信", text)) == ("news",)
    assert kinds_of(mail("回复：宜宾学院来信", text)) == ()


@pytest.mark.parametrize("name, expect", [
    ("qqmail_gb18030_attachment.eml", ("plan",)),
    ("netease163_gbk_subject.eml", ("news",)),
    ("outlook_rfc2047_in_params.eml", ("news",)),
    ("coremail_rfc2231_continuation_wps.eml", ()),
])
def test_real_fixtures(name, expect):
    assert kinds_of(parse_message((DATA / name).read_bytes())) == expect


def test_real_fixture_forwarded_photo():
    kinds, evidence = detect_kinds(
        parse_message((DATA / "forwarded_rfc822_with_attachment.eml").read_bytes()), RULES)
    assert "news" in kinds and any("转发邮件" in e.detail for e in evidence)


def _demo():
    spec = importlib.util.spec_from_file_location("demo_mail", ROOT / "scripts" / "demo_mail.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DEMO = _demo()


@pytest.mark.parametrize("spec", DEMO.SAMPLES, ids=[s["slug"] for s in DEMO.SAMPLES])
def test_demo_submissions(spec):
    """Each demo mail delivers the kind its slug says; a bundle delivers nothing itself
    (its forwarded mails are submissions of their own); a leader's mail of its schools'
    files delivers what they are (the engine credits each to the school its name gives:
    tests/test_demo_mail.py)."""
    msg = own_content(parse_message(DEMO.build(spec, seed=1)))
    texts = [msg.text, *(document_text(a) for a in msg.attachments)]
    fields = len(check_plan(texts, 2024).found)
    expect = {"plan": ("plan",), "news": ("news",), "video": ("video",), "auto": (),
              "bundle": (), "files": ("plan", "news")}
    assert kinds_of(msg, fields=fields) == expect[spec["slug"].split("-")[0]]


def test_rules_file_errors_are_reported(tmp_path):
    text = (ROOT / "rules" / "kinds.toml").read_text(encoding="utf-8")
    bad = tmp_path / "kinds.toml"
    bad.write_text(text.replace("'^\\s*_{10,}\\s*$',", "'^(unclosed',")
                   .replace("min_inline_image_bytes = 10240", "min_inline_image_bytes = \"10K\""),
                   encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_kind_rules(bad)
    assert "quote.markers[2]" in str(err.value) and "min_inline_image_bytes" in str(err.value)
    bad.write_text("[keywords\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML"):
        load_kind_rules(bad)


LABELLED = DATA / "labelled"


def _texts_and_links(msg: ParsedMessage) -> tuple[list[str], str, list[str]]:
    texts, text, hrefs = [msg.text, *(document_text(a) for a in msg.attachments)], msg.text, \
        list(msg.hrefs)
    for inner in msg.forwarded:
        t, x, h = _texts_and_links(inner)
        texts, text, hrefs = texts + t, text + "\n" + x, hrefs + h
    return texts, text, hrefs


@pytest.mark.skipif(not (LABELLED / "labels.toml").is_file(), reason="no labelled set")
def test_labelled_set_kinds_and_missing_fields():
    """Every mail of the clerk-labelled set: same kinds and missing plan fields."""
    links = pytest.importorskip("mailbot.classify.links")
    link_rules = links.load_link_rules(ROOT / "rules" / "links.toml")
    labels = tomllib.loads((LABELLED / "labels.toml").read_text(encoding="utf-8"))["mail"]
    wrong = []
    for label in labels:
        raw = (LABELLED / label["file"]).read_bytes()
        parts = zip(forwarded_originals(raw), label.get("parts", ()))  # a bundle's mails
        for name, data, want in ((label["file"], raw, label),
                                 *((f"{label['file']}#{n}", data, part)
                                   for n, (data, part) in enumerate(parts, 1))):
            msg = own_content(parse_message(data))
            credited = {f for c in want.get("credits", ()) for f in c["files"]}
            for c in want.get("credits", ()):  # a leader's files of a school: judged alone
                view = replace(msg, subject="", text="", html="", hrefs=(), attachments=tuple(
                    a for a in msg.attachments if a.filename in c["files"]))
                check = check_plan(_texts_and_links(view)[0], 2024)
                got = detect_kinds(view, RULES, (), len(check.found))[0]
                if (list(got), list(check.missing) if "plan" in got else []) != \
                        (c["kinds"], c["plan_missing"]):
                    wrong.append((f"{name} {c['school']}", got, check.missing))
            msg = replace(msg, attachments=tuple(a for a in msg.attachments
                                                 if a.filename not in credited))
            texts, text, hrefs = _texts_and_links(msg)
            video = links.video_evidence(links.find_links(text, hrefs, link_rules))
            plan = check_plan(texts, 2024)
            kinds = detect_kinds(msg, RULES, video, len(plan.found))[0]
            missing = list(plan.missing) if "plan" in kinds else []
            if (list(kinds), missing) != (want["kinds"], want.get("plan_missing", [])):
                wrong.append((name, kinds, missing))
    assert wrong == []


def test_sender_text_keeps_the_notice_contacts_out_of_a_plan_check():
    """A reply quoting the notice: the notice's "联系人：朱寒野 028-…" must not fill the
    plan's missing contact field."""
    plan_without_contact = ("一、活动背景：弘扬传统文化\n二、活动组织：四川大学后勤党委\n"
                            "三、活动时间：2024年7月5日\n四、活动地点：校史馆\n五、活动流程：参观")
    quoted = "------------------ 原始邮件 ------------------\n" + QUOTE_HEAD + \
        NOTICE + "\n联系人：朱寒野 028-84760585"
    msg = mail("回复：关于开展接力行的通知", "方案见附件。\n" + quoted)
    assert check_plan([msg.text, plan_without_contact], 2024).missing == ()  # the trap
    assert check_plan([sender_text(msg, RULES), plan_without_contact], 2024).missing == (
        "活动联系人及电话",)
    forward = mail("转发：成都锦城学院活动方案", "请审阅。\n" + quoted)
    assert "朱寒野" in sender_text(forward, RULES)  # a forward keeps the forwarded mail


@pytest.mark.parametrize("line, tag", [
    ("发自我的iPhone", True), ("发自我的华为手机", True), ("來自我的華為Mate 60手機", True),
    ("来自网易邮箱大师", True), ("Sent from my iPhone", True), ("获取 Outlook for Android", True),
    ("四川大学后勤保障部", False), ("请查收。发自我的iPhone", False),
    ("来自四川大学后勤保障部的活动方案，请查收附件，联系人李明手机", False),
])
def test_client_tags_are_the_lines_a_mail_client_adds(line, tag):
    assert any(t.fullmatch(line) for t in RULES.client_tags) is tag


def test_a_bad_client_tag_is_named_with_its_file(tmp_path):
    path = tmp_path / "kinds.toml"
    text = (ROOT / "rules" / "kinds.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("client_tags = [", "client_tags = [\n    '(发自',", 1),
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"body\.client_tags\[0\]: 正则表达式有误"):
        load_kind_rules(path)
