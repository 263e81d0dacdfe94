"""Activity plans: document text extraction and the six template fields."""

from __future__ import annotations

import importlib.util
import io
import quopri
import subprocess
import tomllib
import zipfile
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from conftest import pdf_file

from mailbot.classify import documents as documents_mod
from mailbot.classify.documents import read_document, rtf_text
from mailbot.classify.plan import (
    DEFAULT_RULES,
    FIELDS,
    PlanCheck,
    check_plan,
    damaged_evidence,
    document_text,
    plan_rules,
)
from mailbot.parse import Attachment, parse_message
from mailbot.receipts import _problems

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# The template attached to the notice (川高后思协〔2024〕2 号), as printed, placeholders and all.
TEMPLATE = """附件：活动方案模板

“道中华之美 美后勤之道”
四川 xx 高校博物馆（校史馆）@接力行活动

一、活动背景：根据本校博物馆（校史馆）特色，结合通

知要求来介绍。

二、活动组织：xx 高校后勤党委（或党总支）

三、活动时间：

四、活动地点：

五、活动流程：

六、活动联系人及电话：

注：

1.请做好应急预案，保障安全。

2.请做好宣传工作。

（1）“七.一”后，将参观新闻文档发给片区组长，片区汇总后报思

政会秘书处，秘书处将发布在思政会网站。
"""

FILLED = """“道中华之美 美后勤之道”四川大学博物馆（校史馆）@接力行活动方案
一、活动背景：为贯彻落实思政会通知要求，结合四川大学博物馆馆藏丰富的特色，组织后勤党员走进博物馆。
二、活动组织：四川大学后勤保障部党委
三、活动时间：2024年7月5日（星期五）14:30—16:40
四、活动地点：四川大学博物馆（望江校区）
五、活动流程：1. 14:30 集合、签到；2. 14:40—15:40 讲解员带领参观；3. 16:30 合影留念。
六、活动联系人及电话：王老师 028-85401236"""

TABLE_ROWS = [("活动背景", "弘扬中华优秀传统文化，组织后勤党员参观校史馆。"),
              ("活动组织", "西南交通大学后勤党委"),
              ("活动时间", "2024年7月11日 上午9:30"),
              ("活动地点", "西南交通大学校史馆（犀浦校区）"),
              ("活动流程", "集合签到；参观校史馆；座谈交流；合影"),
              ("活动联系人及电话", "王喆 13908001234")]


def att(name: str, payload: bytes, ctype: str = "application/octet-stream") -> Attachment:
    return Attachment(name, ctype, payload, False, None)


def docx_bytes(paragraphs=(), rows=(), header_table=None) -> bytes:
    """A real .docx written by python-docx: paragraphs, then a label | value table."""
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    if rows:
        table = d.add_table(rows=0, cols=2)
        for label, value in rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value
    if header_table:
        table = d.add_table(rows=2, cols=len(header_table[0]))
        for r, row in enumerate(header_table):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def pdf_bytes(lines: list[str], cjk: bool = False) -> bytes:
    """A one-page PDF.  Chinese uses the predefined STSong-Light CID font with the
    UniGB-UTF16-H CMap (no font embedded), which text extractors decode as UTF-16."""
    if cjk:
        shows = " ".join(f"<{s.encode('utf-16-be').hex()}> Tj T*" for s in lines)
        font = [(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H"
                b" /DescendantFonts [6 0 R] >>"),
                (b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo"
                b" << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R >>"),
                (b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox"
                b" [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880"
                b" /StemV 93 >>")]
    else:
        shows = " ".join(f"({s}) Tj T*" for s in lines)
        font = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    stream = f"BT /F1 12 Tf 16 TL 56 780 Td {shows} ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>"),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream), *font]
    return pdf_file(objs)


# ------------------------------------------------------------------ check_plan
def test_the_notice_template_itself_has_every_field_missing():
    result = check_plan([TEMPLATE], 2024)
    assert result == PlanCheck((), FIELDS, "", "", "", "", "")


def test_a_filled_plan_in_a_docx_table_is_complete_and_its_values_are_read():
    text = document_text(att("附件1.docx", docx_bytes(["活动方案"], TABLE_ROWS)))
    result = check_plan(["您好，附件是我校方案。", text], 2024)
    assert result.found == FIELDS and result.missing == ()
    assert (result.visit_date, result.visit_time) == ("2024-07-11", "09:30")
    assert result.place == "西南交通大学校史馆（犀浦校区）"
    assert result.contact == "王喆 13908001234" and result.phone == "13908001234"


def test_a_plan_without_the_contact_field_misses_only_that():
    text = "\n".join(line for line in FILLED.split("\n") if "联系人" not in line)
    result = check_plan([text + "\n\n成都大学后勤处党支部\n2024年8月20日"], 2024)
    assert result.missing == ("活动联系人及电话",)
    assert result.contact == "" and result.phone == ""


def test_a_body_only_plan_is_read_from_the_mail_text():
    raw = EmailMessage()
    raw["From"], raw["Subject"] = "houqin@scu.edu.cn", "四川大学活动方案"
    raw.set_content("思政会秘书处老师：\n　　您好！现将我部活动方案报送如下：\n"
                    + "\n".join("　　" + line for line in FILLED.split("\n")))
    msg = parse_message(raw.as_bytes())
    result = check_plan([msg.text], 2024)
    assert result.missing == ()
    assert (result.visit_date, result.visit_time, result.phone) == ("2024-07-05", "14:30",
                                                                   "028-85401236")
    assert result.place == "四川大学博物馆（望江校区）"


def test_a_plan_written_in_traditional_characters_is_read_with_the_shipped_rules():
    rules = plan_rules(tomllib.loads((ROOT / "rules" / "kinds.toml").read_text("utf-8"))["plan"])
    text = ("一、活動背景：結合本校校史館特色，組織後勤黨員參觀學習。\n二、活動組織：四川大學後勤保障部黨委\n"
            "三、活動時間：2024年7月5日 14:30\n四、活動地點：四川大學博物館\n"
            "五、活動流程：集合、參觀、座談\n六、活動聯繫人及電話：王老師 028-85401236")
    result = check_plan([text], 2024, rules)
    assert result.missing == ()
    assert (result.visit_date, result.phone) == ("2024-07-05", "028-85401236")
    assert check_plan([text.replace("活動", "")], 2024, rules).missing  # the labels did it


def test_the_whole_notice_is_not_a_plan():
    notice = TEMPLATE.replace("附件：活动方案模板", "三、活动时间\n\n2024 年 6 月-10 月\n\n"
                              "（一）活动组织\n\n各高校后勤党组织根据后勤工作实际\n\n六、联系方式\n\n"
                              "（一）各片区组长单位联系人\n\n")
    assert len(check_plan([notice], 2024).found) < 3


OUTLINE = ("一、活动背景\n弘扬传统文化，走进校史馆。\n二、活动组织\n后勤处党总支\n三、活动时间\n"
           "2024年7月5日下午2:30\n四、活动地点\n成都大学校史馆\n五、活动流程\n集合、参观、座谈\n"
           "六、活动联系人及电话\n唐勇 028-84616643")


def test_an_outline_plan_gives_its_values():
    """A plan written as headings, each value on the line below (no colons)."""
    result = check_plan([OUTLINE], 2024)
    assert result.missing == ()
    assert (result.visit_date, result.visit_time, result.place, result.phone) == (
        "2024-07-05", "14:30", "成都大学校史馆", "028-84616643")


@pytest.mark.parametrize("text, found", [
    ("一、活动背景：弘扬传统文化", ("活动背景",)),                         # "一、label："
    ("1.活动背景：弘扬传统文化", ("活动背景",)),                           # "1.label"
    ("【活动时间】2024年7月5日", ("活动时间",)),                           # 【label】
    ("活动地点: 校史馆", ("活动地点",)),                                    # ASCII colon
    ("活动地点\t校史馆", ("活动地点",)),                                    # table cell
    ("三、活动时间：\n2024年7月5日", ("活动时间",)),                       # value on next line
    ("一、活动背景\n弘扬传统文化，\n走进校史馆。", ("活动背景",)),        # heading + paragraph
    ("三、时间：7月5日", ("活动时间",)),                                    # short label, numbered
    ("时间：14:30\t内容：参观", ()),                                        # 流程 table header: no
    ("时间\t内容\n14:30\t签到", ()),
    ("活动时间安排如下", ()),                                                # label + more words
    ("二、活动组织：xx 高校后勤党委（或党总支）", ()),                     # template placeholder
    ("二、活动组织：XX高校后勤党委", ()),
    ("三、活动时间：待定", ()),
    ("二、活动组织：后勤党委", ("活动组织",)),                              # short real content
    ("联系人：王喆，电话 028-87600512。", ("活动联系人及电话",)),          # variant
    ("联系方式：13800001111", ("活动联系人及电话",)),
    ("一、活动背景：甲二、活动组织：乙三、活动时间：7月5日", FIELDS[:3]),  # run-on line
    ("活动时间\t活动地点\n2024年7月5日\t校史馆", ("活动时间", "活动地点")),  # header row
    ("六、活动联系人及电话：\n\n注：\n1.请做好应急预案。", ()),            # note is no content
    ("三、活动时间\n2024年7月5日", ()),                                     # a lone heading
    (OUTLINE, FIELDS),                                                       # an outline
])
def test_field_labels(text, found):
    assert check_plan([text], 2024).found == found


@pytest.mark.parametrize("value, day, time", [
    ("2024年7月5日", "2024-07-05", ""),
    ("2024 年 7 月 5 日 14:30", "2024-07-05", "14:30"),
    ("7月5日下午14:30", "2024-07-05", "14:30"),
    ("7月5日下午2:30", "2024-07-05", "14:30"),
    ("2024.7.5 上午9点半", "2024-07-05", "09:30"),
    ("2024-07-05 14时", "2024-07-05", "14:00"),
    ("2024/7/5（星期五）14：30—16：40", "2024-07-05", "14:30"),
    ("2024年13月40日", "", ""),
    ("下周五", "", ""),
])
def test_visit_date_and_time(value, day, time):
    result = check_plan([f"三、活动时间：{value}"], 2024)
    assert (result.visit_date, result.visit_time) == (day, time)


@pytest.mark.parametrize("contact, phone", [
    ("王老师 028-85401236", "028-85401236"),
    ("王老师（028）85401236", "028-85401236"),
    ("罗老师 0833-2276123", "0833-2276123"),
    ("王老师 028 8540 1236", "028-85401236"),
    ("王老师（028）8540-1236", "028-85401236"),
    ("罗老师 0833-227 6123", "0833-2276123"),
    ("王老师 028-8540123", "028-8540123"),
    ("王老师 028 8540 12", ""),
    ("陈老师 138 0800 1234", "13808001234"),
    ("陈老师 13808001234，办公室 028-61831234", "13808001234"),
    ("陈老师，电话另告", ""),
])
def test_phone_from_contact(contact, phone):
    result = check_plan([f"六、活动联系人及电话：{contact}"], 2024)
    assert result.phone == phone


def test_values_come_from_the_text_with_most_fields():
    body = "联系人：李娜 13900001111"
    assert check_plan([body, FILLED], 2024).contact == "王老师 028-85401236"
    doc_without_contact = "\n".join(x for x in FILLED.split("\n") if "联系人" not in x)
    result = check_plan([body, doc_without_contact], 2024)
    assert result.missing == () and result.phone == "13900001111"


def test_rules_file_plan_table_matches_the_built_in_defaults():
    table = tomllib.loads((ROOT / "rules" / "kinds.toml").read_text(encoding="utf-8"))["plan"]
    assert tuple(table["fields"]) == FIELDS
    assert plan_rules(table) == DEFAULT_RULES


def test_plan_rules_reject_a_label_claimed_by_two_fields():
    with pytest.raises(ValueError, match="两项"):
        plan_rules({"variants": {"活动时间": ["日期"], "活动地点": ["日期"]}})


# --------------------------------------------------------------- document_text
def test_docx_paragraphs_and_tables_in_document_order():
    text = document_text(att("方案.docx", docx_bytes(["标题", "正文"], TABLE_ROWS[:2])))
    assert text.split("\n") == ["标题", "正文", "活动背景\t" + TABLE_ROWS[0][1],
                                "活动组织\t西南交通大学后勤党委"]


def test_docx_with_merged_cells_lists_each_cell_once():
    d = docx.Document()
    table = d.add_table(rows=1, cols=3)
    table.cell(0, 1).merge(table.cell(0, 2))
    table.cell(0, 0).text, table.cell(0, 1).text = "活动地点", "校史馆"
    out = io.BytesIO()
    d.save(out)
    assert document_text(att("a.docx", out.getvalue())) == "活动地点\t校史馆"


def test_docx_text_typed_with_track_changes_or_in_content_controls_is_read():
    """Word's 修订 mode wraps what was typed in w:ins; templates put fields in content
    controls (w:sdt) and Word tags a Chinese date as a smart tag: their text counts, what
    was deleted (w:del) does not."""
    lines = ["一、活动背景：组织党员参观学习", "二、活动组织：后勤党委", "三、活动时间：2024年7月5日 14:30",
             "四、活动地点：校史馆", "五、活动流程：参观、座谈", "六、活动联系人及电话：李明 13812345678"]
    with zipfile.ZipFile(io.BytesIO(docx_bytes(lines))) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts["word/document.xml"].decode()
    run = "<w:r><w:t>{}</w:t></w:r>"

    def para(text):  # python-docx wrote each line as one paragraph with one run
        return f"<w:p>{run.format(text)}</w:p>"
    assert all(para(x) in xml for x in lines)
    xml = xml.replace(para(lines[0]), '<w:sdt><w:sdtPr><w:alias w:val="背景"/></w:sdtPr>'
                      f"<w:sdtContent>{para(lines[0])}</w:sdtContent></w:sdt>")
    xml = xml.replace(para(lines[2]), "<w:p>" + run.format("三、活动时间：") + '<w:smartTag w:uri='
                      '"urn:schemas-microsoft-com:office:smarttags" w:element="chsdate">'
                      "<w:smartTagPr/>" + run.format("2024年7月5日") + "</w:smartTag>"
                      + run.format(" 14:30") + "</w:p>")
    for x in lines[3:]:
        xml = xml.replace(para(x), f'<w:p><w:ins w:id="1" w:author="张三">{run.format(x)}</w:ins>'
                          '<w:del w:id="2" w:author="张三"><w:r><w:delText>旧地点</w:delText>'
                          "</w:r></w:del></w:p>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in parts.items():
            z.writestr(name, xml.encode() if name == "word/document.xml" else data)
    text = document_text(att("活动方案.docx", out.getvalue()))
    assert text.split("\n") == lines
    result = check_plan([text], 2024)
    assert result.missing == () and result.visit_date == "2024-07-05"


def test_wps_file_that_is_really_docx_is_sniffed():
    payload = docx_bytes([FILLED])
    assert check_plan([document_text(att("方案.wps", payload, "application/kswps"))],
                      2024).missing == ()


def test_minimal_docx_without_relationships_falls_back_to_its_xml():
    spec = importlib.util.spec_from_file_location("make_fixtures", DATA / "make_fixtures.py")
    fx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fx)
    assert document_text(att("x.docx", fx.docx("四川师范大学后勤党委 活动方案"))) == \
        "四川师范大学后勤党委 活动方案"


def test_odt_text():
    xml = ('<office:document-content xmlns:office="o" xmlns:text="t" xmlns:table="b"><office:body>'
           "<text:p>一、活动背景：甲</text:p><table:table><table:table-row><table:table-cell>"
           "<text:p>活动地点</text:p></table:table-cell><table:table-cell><text:p>校史馆</text:p>"
           "</table:table-cell></table:table-row></table:table></office:body>"
           "</office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", xml)
    text = document_text(att("方案.odt", buf.getvalue()))
    assert check_plan([text], 2024).found == ("活动背景", "活动地点")


def test_pdf_ascii_text_is_extracted():
    text = document_text(att("plan.pdf", pdf_bytes(["Time: 2024-09-12 15:00", "Place: museum"])))
    assert "Time: 2024-09-12 15:00" in text and "Place: museum" in text


def test_pdf_chinese_plan_is_read():
    lines = FILLED.split("\n")
    text = document_text(att("乐山师范学院活动方案.pdf", pdf_bytes(lines, cjk=True)))
    result = check_plan([text], 2024)
    assert result.missing == () and result.visit_date == "2024-07-05"


@pytest.mark.parametrize("name, ctype, payload, expect", [
    ("名单.txt", "text/plain", "活动地点：校史馆".encode("gb18030"), "活动地点：校史馆"),
    ("方案.html", "text/html", "<p>活动地点：校史馆</p>".encode(), "活动地点：校史馆"),
    ("IMG_0231.JPG", "image/jpeg", b"\xff\xd8\xff\xe0" + bytes(100), ""),
    ("视频.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(100), ""),
    ("坏文件.docx", "application/octet-stream", b"PK\x03\x04garbage", ""),
    ("坏文件.pdf", "application/pdf", b"%PDF-1.4\nnot really", ""),
    ("空.doc", "application/msword", b"", ""),
])
def test_other_files(name, ctype, payload, expect):
    assert document_text(att(name, payload, ctype)).strip() == expect


def test_legacy_ole_file_never_raises_and_goes_to_antiword_then_catdoc(monkeypatch):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    assert document_text(att("报名表.wps", ole)) == ""  # real tools, unreadable file
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd[0])
        if cmd[0] == "antiword":
            raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])
        return subprocess.CompletedProcess(cmd, 0, "活动地点：校史馆\n".encode(), b"")

    monkeypatch.setattr(documents_mod.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(documents_mod.subprocess, "run", fake_run)
    assert document_text(att("方案.doc", ole)) == "活动地点：校史馆\n"
    assert calls == ["antiword", "catdoc"]
    calls.clear()
    assert document_text(att("方案.rtf", b"{\\rtf1 abc}")) == "abc"  # RTF is read here
    assert calls == []


def test_ole_file_the_tools_cannot_read_gives_its_utf16_text():
    """A WPS/Word OLE2 file keeps Chinese text as UTF-16LE; when antiword and catdoc
    fail on it (no FIB, fast-saved, odd WPS writer), those runs of text are used."""
    ole = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1528)
           + FILLED.replace("\n", "\r").encode("utf-16-le") + bytes(300))
    text = document_text(att("宜宾学院活动方案.wps", ole, "application/kswps"))
    result = check_plan([text], 2024)
    assert result.missing == () and result.phone == "028-85401236"


def test_missing_tools_give_empty_text(monkeypatch):
    monkeypatch.setattr(documents_mod.shutil, "which", lambda name: None)
    assert document_text(att("方案.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))) == ""


def test_real_fixture_docx_attachment():
    msg = parse_message((DATA / "qqmail_gb18030_attachment.eml").read_bytes())
    (doc,) = msg.attachments
    assert "活动方案" in document_text(doc)


# ------------------------------------------------- plans as the reviewer's mail sent them
@pytest.mark.parametrize("name", ["plan_rtf_gbk.eml", "plan_word_html_as_doc.eml"])
def test_rtf_in_gbk_and_word_html_named_doc_are_read(name):
    """An RTF from Word/WPS (\\ansicpg936, GBK bytes as \\'xx escapes) and a Word web page
    saved as .doc (application/msword) hold all six fields."""
    (doc,) = parse_message((DATA / name).read_bytes()).attachments
    assert check_plan([document_text(doc)], 2024).missing == ()


def rtf_escaped(text: str, codec: str = "gbk") -> str:
    """*text* as an RTF writer puts it: ASCII as is, the rest as \\'xx bytes in *codec*."""
    return "".join(c if c < "\x80" else "".join(f"\\'{b:02x}" for b in c.encode(codec))
                   for c in text).replace("\n", "\\par\r\n")


def test_rtf_gbk_bytes_are_joined_and_decoded_in_the_code_page():
    rtf = ("{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 "
           + rtf_escaped("宋体;") + "}}{\\colortbl;\\red0\\green0\\blue0;}"
           "{\\*\\generator WPS Office;}{\\info{\\title " + rtf_escaped("标题") + "}}"
           "\\f0\\fs24 " + rtf_escaped(FILLED) + "}")
    text = rtf_text(rtf.encode("ascii"))
    assert text.rstrip() == FILLED.rstrip()  # no font name, title or generator
    assert check_plan([text], 2024).missing == ()


def test_rtf_font_charset_unicode_escapes_and_tables():
    """A \\fcharset134 font in a 1252 document is GBK too; \\uN is read and its \\ucN
    fallback bytes skipped; surrogate pairs joined; cells end in tabs; \\bin and {\\*...}
    skipped."""
    wide = "".join(f"\\u{ord(c)}" + "".join(f"\\'{b:02x}" for b in c.encode("gbk"))
                   for c in "活动地点")
    rtf = ("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0\\fswiss Arial;}{\\f1\\fnil\\fcharset134 "
           "SimSun;}}{\\*\\bkmkstart a}{\\uc2 " + wide + "}\\cell {\\f1 " + rtf_escaped("校史馆")
           + "}\\cell\\row \\u-10179?\\u-8694?{\\pict\\bin3 {}x}\\'e9\\tab\\{\\}}")
    assert rtf_text(rtf.encode("ascii")) == "活动地点\t校史馆\t\n😊é\t{}"


WORD_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<?mso-application '
            'progid="Word.Document"?>\n<w:wordDocument xmlns:w="http://schemas.microsoft.com/'
            'office/word/2003/wordml"><w:body><w:p><w:r><w:t>活动地点：校史馆</w:t></w:r></w:p>'
            '</w:body></w:wordDocument>').encode()
MHT = (b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart_01"\r\n'
       b"\r\n------=_NextPart_01\r\nContent-Location: file:///C:/x.htm\r\nContent-Transfer-"
       b'Encoding: quoted-printable\r\nContent-Type: text/html; charset="gb2312"\r\n\r\n'
       + quopri.encodestring("<html><body><p>活动地点：校史馆</p></body></html>".encode("gbk"))
       + b"\r\n------=_NextPart_01--\r\n")
XHTML = ('\ufeff<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML '
         '1.0//EN" "x"><html><body><p>活动地点：校史馆</p></body></html>').encode()


@pytest.mark.parametrize("payload", [WORD_XML, MHT, XHTML], ids=["word2003xml", "mht", "xhtml"])
def test_web_pages_and_word_xml_saved_as_doc_are_sniffed(payload):
    assert document_text(att("方案.doc", payload, "application/msword")).strip() == "活动地点：校史馆"


@pytest.mark.parametrize("name, payload, damaged", [
    ("方案.docx", docx_bytes([FILLED])[:-300], True),  # cut off: no central directory
    ("坏文件.docx", b"PK\x03\x04garbage", True),
    ("坏文件.pdf", b"%PDF-1.4\nnot really", True),
    ("空.doc", b"", True),
    ("方案.docx", b"\x00" * 300, True),  # a document's name on bytes of no known format
    ("方案.docx", docx_bytes(["活动方案"]), False),
    ("扫描件.pdf", pdf_bytes([]), False),  # opens, no text: a scan
    ("IMG_0231.JPG", b"\xff\xd8\xff\xe0" + bytes(100), False),
    ("照片.zip", b"PK\x05\x06" + bytes(18), False),
])
def test_read_document_tells_damaged_files_from_scans(name, payload, damaged):
    assert read_document(att(name, payload))[1] is damaged


def test_a_cut_off_plan_is_to_be_sent_again_not_looked_at_as_a_scan():
    """A mail cut off in transit leaves its .docx without its end: the school is told the
    file cannot be opened and must be sent again (not that it is a photo or a scan)."""
    msg = parse_message((DATA / "plan_truncated_docx.eml").read_bytes())
    (ev,) = damaged_evidence(msg.attachments)
    assert ev.rule == "plan.damaged" and "《成都大学活动方案.docx》无法打开" in ev.detail
    evidence = [{"rule": ev.rule, "detail": ev.detail},
                {"rule": "plan.unreadable", "detail": "方案是图片或扫描件"}]
    assert _problems({"plan_missing": [], "late": False, "evidence": evidence}) == [
        "附件《成都大学活动方案.docx》无法打开（文件可能已损坏或不完整），请重新发送。"]
    photo = att("活动方案.jpg", b"\xff\xd8\xff\xe0" + bytes(100), "image/jpeg")
    assert damaged_evidence([photo, att("方案.docx", docx_bytes([FILLED]))]) == ()


def test_a_damaged_plan_is_read_once_in_its_classification(monkeypatch):
    """The cut-off .docx is opened for its text and then named as damaged: one reading
    of each attachment serves both (a plan's PDF costs milliseconds to read)."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify import engine

    rules, campaign = engine.load_rulebook(ROOT / "rules"), \
        config.load(ROOT / "config.example.toml").campaign
    msg = parse_message((DATA / "plan_truncated_docx.eml").read_bytes())
    reads: list[str] = []
    text = documents_mod._text

    def counted(data, content_type, name):
        reads.append(name)
        return text(data, content_type, name)

    monkeypatch.setattr(documents_mod, "_text", counted)
    verdict = engine.classify(msg, rules, campaign, datetime(2024, 6, 28, tzinfo=UTC))
    assert [e.rule for f, e in verdict.evidence if f == "plan"] == ["plan.damaged"]
    assert sorted(reads) == sorted(a.filename.lower() for a in msg.attachments)


def test_a_photographed_plan_is_not_reported_as_missing_every_field():
    """A plan sent as a photo (or a scan) has no text to check: the receipt must not tell
    the school that all six fields are missing; it says the plan will be looked at by a
    person.  A plan written in prose without the template's headings still lacks them."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    rules, campaign = load_rulebook(ROOT / "rules"), config.load(ROOT / "config.example.toml").campaign
    photo = EmailMessage()
    photo["From"], photo["To"], photo["Subject"] = "houqin@scu.edu.cn", "c@scgxhq.test", "活动方案"
    photo.set_content("附件是我部活动方案的照片，请审阅。")
    photo.add_attachment(b"\xff\xd8\xff\xe0" + bytes(4000), maintype="image", subtype="jpeg",
                         filename="活动方案.jpg")
    when = datetime(2024, 6, 28, tzinfo=UTC)
    verdict = classify(parse_message(photo.as_bytes()), rules, campaign, when)
    assert verdict.kinds == ("plan",) and verdict.plan.missing == ()
    assert any(e.rule == "plan.unreadable" for _, e in verdict.evidence)
    prose = EmailMessage()
    prose["From"], prose["To"], prose["Subject"] = "houqin@scu.edu.cn", "c@scgxhq.test", "活动方案"
    prose.set_content("我部活动方案如下：" + "七月上旬组织党员职工参观学校博物馆，了解办学历程。" * 8)
    verdict = classify(parse_message(prose.as_bytes()), rules, campaign, when)
    assert verdict.kinds == ("plan",) and verdict.plan.missing == FIELDS


def test_a_plan_in_an_attachment_without_text_is_looked_at_not_reported_missing():
    """A stamped, scanned PDF sent with a signature "联系人：… 电话：…", and a plan .docx
    zipped with a long covering letter: the signature is no plan and the letter is not the
    plan, so the school is not asked to fill in five (or six) items; a person looks.  A
    readable .docx lacking items beside a photo still gets them asked for."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    rules, campaign = load_rulebook(ROOT / "rules"), config.load(ROOT / "config.example.toml").campaign
    when = datetime(2024, 6, 28, tzinfo=UTC)

    def judged(body: str, *files: tuple[str, bytes, str]):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = "houqin@swpu.edu.cn", "c@scgxhq.test", "西南石油大学活动方案"
        m.set_content(body)
        for name, payload, ctype in files:
            m.add_attachment(payload, maintype=ctype.split("/")[0], subtype=ctype.split("/")[1],
                             filename=name)
        return classify(parse_message(m.as_bytes()), rules, campaign, when)

    scan = pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>",
                     b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"])
    signed = "老师好，附件是我部活动方案（盖章扫描件），请审阅。\n\n联系人：赵敏 电话：0817-2642000"
    verdict = judged(signed, ("活动方案.pdf", scan, "application/pdf"))
    assert verdict.kinds == ("plan",) and verdict.plan.missing == ()
    assert any(e.rule == "plan.unreadable" for _, e in verdict.evidence)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("西南石油大学活动方案.docx", docx_bytes([FILLED]))
    letter = "各位老师好：\n" + "现将我部博物馆接力行活动方案报送如下，请审阅，如有不妥请指正。" * 6
    verdict = judged(letter, ("活动方案.zip", buf.getvalue(), "application/zip"))
    assert verdict.kinds == ("plan",) and verdict.plan.missing == ()

    lacking = FILLED.replace("六、活动联系人及电话：王老师 028-85401236", "").replace(
        "五、活动流程：", "五、其他：")
    verdict = judged("请审阅。", ("活动方案.docx", docx_bytes([lacking]), "application/octet-stream"),
                     ("IMG_1.jpg", b"\xff\xd8\xff\xe0" + bytes(40_000), "image/jpeg"))
    assert verdict.plan.missing == ("活动流程", "活动联系人及电话")


def test_a_plan_lacking_its_contact_takes_the_one_the_signature_gives():
    """The plan .docx lacks 活动联系人及电话 but the mail is signed with a name and a phone:
    the item is not asked for again; the contact and phone come from the signature, the
    evidence and the receipt say so.  Without a phone in the signature — or with only a
    sentence giving someone else's (the district leader's, the secretariat's) — it is still
    asked for, and a plan with no template item at all is not made to look like one."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook

    rules, campaign = load_rulebook(ROOT / "rules"), config.load(ROOT / "config.example.toml").campaign

    def judged(body: str, plan: str):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = "houqin@swpu.edu.cn", "c@scgxhq.test", "西南石油大学活动方案"
        m.set_content(body)
        m.add_attachment(docx_bytes([plan]), maintype="application", subtype="octet-stream",
                         filename="活动方案.docx")
        return classify(parse_message(m.as_bytes()), rules, campaign, datetime(2024, 6, 28, tzinfo=UTC))

    lacking = FILLED.replace("六、活动联系人及电话：王老师 028-85401236", "")
    signed = "老师好，附件是我部活动方案，请审阅。\n\n--\n赵敏\n西南石油大学后勤服务公司\n电话：0817-2642000"
    verdict = judged(signed, lacking)
    assert verdict.kinds == ("plan",) and verdict.plan.missing == ()
    assert verdict.plan.phone == "0817-2642000" and "赵敏" in verdict.plan.contact
    said = [e.detail for _, e in verdict.evidence if e.rule == "plan.signature"]
    assert len(said) == 1 and said[0].startswith("活动联系人及电话取自邮件签名：赵敏 西南石油大学后勤服务公司 电话")
    r = {"plan_missing": [], "kinds": ["plan"], "attachments": [1], "links": [], "late": False,
         "evidence": [{"field": "plan", "rule": "plan.signature", "detail": said[0]}]}
    assert any("取自邮件签名" in p and "请回复本邮件更正" in p for p in _problems(r))

    verdict = judged("老师好，附件是我部活动方案，请审阅。\n西南石油大学后勤服务公司", lacking)
    assert verdict.plan.missing == ("活动联系人及电话",)
    for someone_else in ("老师好，附件是我部活动方案。\n如有问题请联系片区组长朱寒野老师，电话028-84760585。",
                         "老师好，附件是我部活动方案。\n已电话告知秘书处贺健老师 028-85707118"):
        assert judged(someone_else, lacking).plan.missing == ("活动联系人及电话",)
    html_lines = "老师好，附件是我部活动方案，请审阅。\n\n刘洋\n\n西南石油大学后勤服务公司\n\n手机 +86 139 9061 2345"
    verdict = judged(html_lines, lacking)  # one <div> a line: blank lines between them
    assert verdict.plan.contact == "刘洋 西南石油大学后勤服务公司 手机 +86 139 9061 2345"
    assert verdict.plan.phone == "13990612345"
    prose = "我部活动方案：七月上旬组织党员职工参观学校博物馆，了解办学历程。" * 8
    assert judged(signed, prose).plan.missing == FIELDS


def test_hostile_documents_are_read_within_bounds():
    """Crafted files cannot stall the intake or exhaust memory: RTF nested past any real
    document keeps one saved state per level up to the cap (the text still comes out),
    an RTF of more tokens than a plan ever has is read up to the budget, and only a
    file named as a web archive is parsed as one (the stdlib mail parser is quadratic in
    a header's length) — a "photo" starting like a mail is not."""
    from mailbot.classify import documents as d
    deep = "{\\rtf1\\ansi\\ansicpg936 " + "{" * 5000 + "活动背景" + "}" * 5000 + " 活动流程}"
    assert "活动流程" in d.rtf_text(deep.encode("gbk"))
    long = ("{\\rtf1 START" + "\\b0 " * (d.MAX_RTF_TOKENS + 10) + "END}").encode()
    text = d.rtf_text(long)
    assert "START" in text and "END" not in text
    crafted = b'Content-Type: text/html; a="' + b";" * 200_000 + b'"\r\n\r\n<p>x</p>'
    assert d.read_document(att("photo.jpg", crafted)) == ("", False)
    assert d.read_document(att("网页.mht", crafted)) == ("", False)  # its header is too long to read
    note = "活动方案\r\n活动背景：弘扬中华优秀传统文化\r\n".encode("gbk")
    assert d.read_document(att("活动方案.doc", note)) == (note.decode("gbk"), False)
