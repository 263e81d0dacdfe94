"""mailbot.parse decodes what Chinese university staff really send.

Fixtures are byte-level .eml files in tests/data/, written by
tests/data/make_fixtures.py (client shapes built byte for byte, plus mails
written by the real mutt, s-nail and mime-construct).  Attachment payloads
are compared with the builder's bytes: they must round-trip byte-identical.
"""

from __future__ import annotations

import base64
import importlib.util
import logging
import os
import quopri
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailbot.charsets import decode_bytes, decode_header_bytes, missing_segments
from mailbot.mimefix import looks_like_mail
from mailbot.parse import (
    Attachment,
    ParsedMessage,
    ParseError,
    forwarded_originals,
    parse_message,
)

DATA = Path(__file__).resolve().parent / "data"
CORPUS = Path(os.environ.get("MAILBOT_CORPUS") or
              Path(__file__).resolve().parents[2] / "shared" / "corpus-outside")
CST = timezone(timedelta(hours=8))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_spec = importlib.util.spec_from_file_location("make_fixtures", DATA / "make_fixtures.py")
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)
PAYLOADS: dict[str, bytes] = fx.PAYLOADS


@pytest.fixture(autouse=True)
def _quiet_mailparser():
    """mail-parser logs a warning for every part type it does not handle."""
    logging.getLogger("mailparser").setLevel(logging.ERROR)


def load(name: str) -> ParsedMessage:
    return parse_message((DATA / name).read_bytes())


def only(msg: ParsedMessage) -> Attachment:
    assert len(msg.attachments) == 1, msg.attachments
    return msg.attachments[0]


def noted(msg: ParsedMessage, *words: str) -> bool:
    return any(all(w in d for w in words) for d in msg.defects)


# ------------------------------------------------ 1. GBK/GB18030 under gb2312/GBK
def test_gb2312_words_with_gbk_only_chars_decode_as_gb18030():
    word = "=?gb2312?B?" + base64.b64encode("朱镕基 王喆 𠀀".encode("gb18030")).decode() + "?="
    assert decode_header_bytes(word.encode())[0] == "朱镕基 王喆 𠀀"
    for label in ("gb2312", "GBK", "x-gbk", "cp936", "GB_2312-80"):
        assert decode_bytes("王喆 刘䶮".encode("gb18030"), label)[0] == "王喆 刘䶮"


def test_utf8_mislabelled_as_gb2312_or_latin1_is_recovered():
    assert decode_bytes("四川师范大学后勤".encode(), "gb2312") == (
        "四川师范大学后勤", ["labelled gb2312 but is UTF-8; decoded as utf-8"])
    assert decode_bytes("王喆".encode(), "iso-8859-1")[0] == "王喆"
    assert decode_bytes("四川师范大学后勤".encode("gb18030"), "gb2312") == ("四川师范大学后勤", [])


def test_outlook_gb2312_sender_name_with_rong():
    msg = load("outlook_rfc2047_in_params.eml")
    assert (msg.sender, msg.sender_name) == ("zhurong@swjtu.edu.cn", "朱镕")
    assert noted(msg, "from", "labelled gb2312", "gb18030")
    assert noted(msg, "mail-parser garbled the name")  # detected, not trusted


def test_163_gbk_subject_with_gb18030_four_byte_char():
    msg = load("netease163_gbk_subject.eml")
    assert msg.subject == "参观合影（刘䶮）"
    assert msg.sender_name == "刘䶮"
    assert msg.sender == "liuyan_swjtu@163.com"
    assert msg.text == fx.NETEASE_TEXT
    assert msg.headers["x-mailer"].startswith("Coremail Webmail Server Version XT5.0.14")
    assert msg.headers["x-cm-transid"] == "ZCgvCgD3_7RHvEdnE2QcAA--.27961S2"
    att = only(msg)
    assert (att.filename, att.content_type) == ("参观合影2.jpg", "image/jpeg")
    assert att.payload == PAYLOADS["参观合影2.jpg"]


# ------------------------------------------------ 2. raw 8-bit headers
def test_raw_8bit_gbk_subject_sender_and_filename():
    msg = load("raw8bit_gbk_subject_filename.eml")
    assert msg.subject == "回复：四川师范大学后勤党委 活动方案（博物馆接力行）"
    assert (msg.sender, msg.sender_name) == ("wangzhe@sicnu.edu.cn", "王喆")
    att = only(msg)
    assert att.filename == "报名表-四川师范大学.doc"
    assert att.content_type == "application/msword"
    assert att.payload == PAYLOADS["活动方案-四川师范大学.docx"]
    assert noted(msg, "subject: raw 8-bit bytes; decoded as gb18030")


def test_raw_big5_without_a_charset_is_read_as_big5_not_gbk():
    """Big5 bytes nearly always decode as GBK too (into rare and private-use characters):
    with no charset, the reading with more common characters wins."""
    msg = load("raw8bit_big5_no_charset.eml")
    assert msg.subject == fx.BIG5_SUBJECT
    assert msg.text == fx.BIG5_TEXT.strip()
    assert (msg.sender, msg.sender_name) == ("zhangli2024@163.com", "張麗")
    assert noted(msg, "subject: raw 8-bit bytes; decoded as big5hkscs")


@pytest.mark.parametrize("text", ["活動方案", "學校", "後勤", "新聞稿見附件", "視頻連結",
                                  "張麗", "許功"])  # no byte pair >= A1: all trail bytes < 80
def test_short_big5_words_without_a_charset(text):
    assert decode_bytes(text.encode("big5"))[0] == text
    assert decode_header_bytes(text.encode("big5"))[0] == text


@pytest.mark.parametrize("text", ["活动方案", "后勤", "王喆", "参会名单", "朱镕基两位老师负责联络",
                                  "附件是我校后勤处“博物馆接力行”活动方案，请查收。"])
def test_gbk_without_a_charset_stays_gbk(text):
    """GBK read as Big5 often decodes too, but into fewer common characters (a tie: GBK)."""
    assert decode_bytes(text.encode("gb18030")) == (text, ["raw 8-bit bytes; decoded as gb18030"])


def test_raw_8bit_latin1_is_not_mistaken_for_gbk():
    assert decode_header_bytes(b"Orange m\xe9canique")[0] == "Orange mécanique"  # not 閏
    for text in ("Ärger im Büro", "Ålesund Öl"):  # Ä+r is a common Big5 character, ü+r is not
        assert decode_header_bytes(text.encode("latin-1"))[0] == text
    assert decode_header_bytes("回复：活动方案".encode("gbk"))[0] == "回复：活动方案"


def test_foxmail_raw_8bit_gbk_filename():
    msg = load("foxmail_gb2312_raw8bit_filename.eml")
    att = only(msg)
    assert (att.filename, att.content_type, att.inline) == ("参观合影1.jpg", "image/jpeg", False)
    assert att.payload == PAYLOADS["参观合影1.jpg"]
    assert noted(msg, "filename: raw 8-bit bytes; decoded as gb18030")


def test_mime_construct_raw_8bit_utf8_subject_and_filename():
    msg = load("mime_construct_raw8bit_utf8.eml")
    assert msg.subject == "回复：活动方案（博物馆接力行）"
    assert (msg.sender, msg.sender_name) == ("lisi@scu.edu.cn", "李四")
    assert msg.text == "王喆老师好，附件是活动方案。"
    att = only(msg)
    assert (att.filename, att.content_type) == ("宣传海报（博物馆接力行）.pdf", "application/pdf")
    assert att.payload == PAYLOADS["宣传海报（博物馆接力行）.pdf"]  # quoted-printable undone
    assert noted(msg, "subject: raw 8-bit bytes; decoded as utf-8")


def test_mime_construct_raw_8bit_gbk_everything():
    msg = load("mime_construct_raw8bit_gbk.eml")
    assert msg.subject == "【新闻】西南交通大学后勤参观校史馆"
    assert (msg.sender, msg.sender_name) == ("zhurong@swjtu.edu.cn", "朱镕")
    assert msg.text == "报名表见附件，王喆。"
    att = only(msg)
    assert (att.filename, att.content_type) == ("参会名单.txt", "text/plain")
    assert att.payload == fx.TXT_GBK


def test_outlook_express_uuencoded_file_is_taken_out_of_the_text():
    """No MIME parts: the file is uuencoded inside the 8-bit GB2312 text, its name raw
    GBK on the ``begin`` line.  It comes out as an attachment, byte-identical; the text is
    the greeting alone."""
    msg = load("outlook_express_uuencode.eml")
    att = only(msg)
    assert (att.filename, att.content_type) == ("成都大学后勤处活动方案.docx", DOCX)
    assert att.payload == PAYLOADS[att.filename] and not att.inline
    assert msg.text == "秘书处老师：\n  您好！我处活动方案见附件。\n\n成都大学后勤处"
    assert msg.subject == "成都大学后勤处活动方案" and msg.sender == "hqc@cdu.edu.cn"
    assert msg.defects == ("uuencode: '成都大学后勤处活动方案.docx' taken out of the text",)


# ------------------------------------------------ 3. RFC 2231
def test_coremail_rfc2231_continuation_split_inside_a_character():
    msg = load("coremail_rfc2231_continuation_wps.eml")
    att = only(msg)
    assert att.filename == "博物馆接力行报名表（四川师范大学后勤党委）.wps"
    assert att.content_type == "application/kswps"
    assert att.payload == PAYLOADS[att.filename]
    assert (msg.subject, msg.sender_name) == ("博物馆接力行 报名表", "李娜")
    assert msg.text == fx.COREMAIL_TEXT
    assert msg.headers["x-mailer"].startswith("Coremail Webmail Server Version XT5.0.13")
    assert msg.headers["x-cm-transid"] == "AQAAfwDXr1AwzUZnQ2EAAA--.1234W"
    assert msg.date == datetime(2024, 11, 27, 10, 20, tzinfo=CST)
    assert msg.defects == ()


def test_rfc2231_continuation_with_a_segment_missing_is_noted():
    """Coremail's filename*0*/filename*1*, as a mangling relay left it: segments 0 and 2,
    1 lost.  The stdlib joins what is there without a word; the mail's notes say a segment
    is missing, so a shortened name is not taken for the sender's."""
    whole = (DATA / "coremail_rfc2231_continuation_wps.eml").read_bytes()
    msg = parse_message(whole.replace(b"\tfilename*1*=", b"\tfilename*2*="))
    assert only(msg).filename.startswith("博物馆接力")
    assert [d for d in msg.defects if "RFC 2231" in d] == [
        (f"part application/kswps {only(msg).filename!r} filename: "
         "RFC 2231 segments missing, the rest joined")]
    assert not [d for d in parse_message(whole).defects if "RFC 2231" in d]


@pytest.mark.parametrize(("value", "missing"), [
    (b"attachment; filename*0=a; filename*1=b", []),
    (b'attachment;\r\n\tfilename*0*=UTF-8\'\'%E5; filename*2*=%8D', ["filename"]),
    (b"application/pdf; name*1=b; NAME*2=c", ["name"]),  # no *0
    (b"attachment; filename*0=a; filename*999999=b", ["filename"]),  # no range built
    (b"attachment; filename=\"x*0=y.doc\"", []),
    (b"", []),
])
def test_missing_rfc2231_segments(value, missing):
    assert missing_segments(value) == missing


def test_mutt_gb18030_rfc2231_filename():
    msg = load("mutt_gb18030_rfc2231.eml")
    assert b"filename*0*=gb18030''" in (DATA / "mutt_gb18030_rfc2231.eml").read_bytes()
    assert msg.subject == "四川师范大学后勤党委 活动方案（博物馆接力行）"
    assert (msg.sender, msg.sender_name) == ("wangzhe@sicnu.edu.cn", "王喆")
    assert msg.text == "王喆老师好，附件是活动方案。"  # 8-bit gb18030 body
    att = only(msg)
    assert (att.filename, att.content_type) == ("活动方案-四川师范大学.docx", DOCX)
    assert att.payload == PAYLOADS["活动方案-四川师范大学.docx"]
    assert msg.date is not None and msg.date.tzinfo is not None


def test_snail_utf8_rfc2231_filename():
    msg = load("snail_utf8_rfc2231.eml")
    assert msg.subject == "【新闻】西南交通大学后勤参观校史馆"
    assert (msg.sender, msg.sender_name) == ("zhangsan@swjtu.edu.cn", "张三")
    assert msg.text == "王喆老师好，附件是活动方案。"
    att = only(msg)
    assert (att.filename, att.content_type) == ("参观合影1.jpg", "image/jpeg")
    assert att.payload == PAYLOADS["参观合影1.jpg"]
    assert att.inline is False and att.content_id  # s-nail gives attachments a Content-ID


# ------------------------------------------------ 4. encoded-words split mid-character
def test_encoded_words_split_inside_utf8_and_gbk_characters():
    msg = load("split_encoded_words_midchar.eml")
    assert msg.subject == "【新闻】西南交通大学后勤参观校史馆"
    assert msg.sender_name == "王喆"  # first byte of 喆 in a gb2312 word, second in a gbk word
    assert msg.text == "附件稍后补发。"
    assert msg.message_id == "split-words-1@sicnu.edu.cn"


# ------------------------------------------------ 5. RFC 2047 inside quoted parameters
def test_outlook_rfc2047_in_quoted_name_and_filename():
    msg = load("outlook_rfc2047_in_params.eml")
    assert msg.subject == "【新闻】西南交通大学后勤参观校史馆"
    assert msg.headers["x-mailer"] == "Microsoft Outlook 16.0"
    doc, poster = msg.attachments
    assert (doc.filename, doc.content_type) == ("新闻稿-西南交通大学.docx", DOCX)
    assert doc.payload == PAYLOADS["新闻稿-西南交通大学.docx"]
    assert (poster.filename, poster.content_type) == ("宣传海报（博物馆接力行）.pdf", "application/pdf")
    assert poster.payload == PAYLOADS["宣传海报（博物馆接力行）.pdf"]
    assert msg.text == fx.OUTLOOK_TEXT
    assert msg.message_id == "000001db3fd1$2a7c3e10$7f74ba30$@swjtu.edu.cn"
    assert msg.date == datetime(2024, 11, 26, 16, 5, 11, tzinfo=CST)


def test_qq_mail_octet_stream_with_gb18030_charset_and_encoded_name():
    msg = load("qqmail_gb18030_attachment.eml")
    assert msg.subject == "四川师范大学后勤党委 活动方案（博物馆接力行）"
    assert (msg.sender, msg.sender_name) == ("2860012345@qq.com", "王喆")
    assert msg.to == ("contact@example.org",)
    assert msg.message_id == "tencent_5F1E3C0A8B7D2E4F6A9C1B3D5E7F9A0B1C08@qq.com"
    assert msg.date == datetime(2024, 11, 24, 11, 44, 34, tzinfo=CST)
    assert msg.headers["x-qq-mid"] == "bizesmtp71t1732419874tq0x1y2z"
    assert msg.headers["x-mailer"] == "QQMail 2.x"
    assert msg.text == fx.QQ_TEXT
    assert msg.html == fx.QQ_HTML
    att = only(msg)
    assert (att.filename, att.content_type) == ("活动方案-四川师范大学.docx", "application/octet-stream")
    assert att.payload == PAYLOADS["活动方案-四川师范大学.docx"]
    assert att.payload.startswith(b"PK\x03\x04")


# ------------------------------------------------ 6. HTML-only bodies
def test_html_only_gbk_text_and_links():
    msg = load("html_only_gbk_links.eml")
    assert msg.text == ("各位老师好：\n\n活动报道已发布，请点击阅读： 四川师范大学后勤 | 博物馆接力行\n\n"
                        "视频： B站 也可以 再次打开\n\n王喆 028-84760000")
    assert "不应出现" not in msg.text  # <title>, <style>, <script> dropped
    assert msg.hrefs == (
        "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv",
        "https://www.bilibili.com/video/BV1xK4y1C7aB?share_source=copy&vd_source=1")
    assert msg.html.startswith("<html><head><meta charset=\"gbk\">")
    assert msg.attachments == ()


def test_html_only_utf8_text_and_links():
    msg = load("html_only_utf8_links.eml")
    assert msg.subject == "链接"
    assert msg.text == "链接如下：\n公众号文章 点此\n视频 https://b23.tv/Ab12Cd3"
    assert msg.hrefs == ("https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=8a9b#rd",
                         "https://b23.tv/Ab12Cd3")


# ------------------------------------------------ 7. inline images
def test_related_inline_images_are_inline_attachments():
    msg = load("related_inline_images.eml")
    logo, photo, poster = msg.attachments
    assert (logo.filename, logo.content_type, logo.inline, logo.content_id) == (
        "", "image/png", True, "logo@qq.com")
    assert logo.payload == PAYLOADS["logo.png"]
    assert (photo.filename, photo.inline, photo.content_id) == ("参观合影1.jpg", True, "photo1@qq.com")
    assert photo.payload == PAYLOADS["参观合影1.jpg"]
    assert (poster.filename, poster.inline, poster.content_id) == (
        "宣传海报（博物馆接力行）.pdf", False, None)
    assert msg.text == "照片见正文。"
    assert 'src="cid:logo@qq.com"' in msg.html


# ------------------------------------------------ 8. forwarded message/rfc822
def test_forwarded_message_is_parsed_not_listed_as_a_blob():
    msg = load("forwarded_rfc822_with_attachment.eml")
    assert msg.subject == "转发: 四川师范大学后勤党委 活动方案（博物馆接力行）"
    assert msg.text == "转发四川师范大学的活动方案，原邮件见附件。"
    assert msg.attachments == ()
    (inner,) = msg.forwarded
    assert (inner.sender, inner.sender_name) == ("wangzhe@sicnu.edu.cn", "王喆")
    assert inner.subject == "四川师范大学后勤党委 活动方案（博物馆接力行）"
    assert inner.text == fx.FOXMAIL_TEXT
    assert inner.date == datetime(2024, 11, 25, 9, 12, 30, tzinfo=CST)
    att = only(inner)
    assert att.filename == "参观合影1.jpg" and att.payload == PAYLOADS["参观合影1.jpg"]
    assert inner.forwarded == ()


def _nested(level: int) -> bytes:
    if level == 0:
        return b"From: a0@example.org\r\nSubject: level0\r\n\r\nbottom\r\n"
    return (f"From: a{level}@example.org\r\nSubject: level{level}\r\n"
            f"Content-Type: multipart/mixed; boundary=f{level}\r\n\r\n--f{level}\r\n"
            f"Content-Type: text/plain\r\n\r\nup\r\n--f{level}\r\n"
            "Content-Type: message/rfc822\r\n\r\n").encode() + _nested(level - 1) + (
        f"\r\n--f{level}--\r\n".encode())


def test_forwarding_depth_is_limited_to_five():
    msg, depth = parse_message(_nested(7)), 0
    while msg.forwarded:
        msg, depth = msg.forwarded[0], depth + 1
    assert depth == 5 and msg.subject == "level2"
    assert only(msg).content_type == "message/rfc822"
    assert b"Subject: level1" in only(msg).payload


def test_base64_encoded_forwarded_message_is_still_parsed():
    inner = "From: =?utf-8?B?5p2O5Zub?= <lisi@scu.edu.cn>\r\nSubject: hi\r\n\r\n正文\r\n".encode()
    raw = (b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
           b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(inner) + b"--x--\r\n")
    (fwd,) = parse_message(raw).forwarded
    assert (fwd.sender_name, fwd.subject, fwd.text) == ("李四", "hi", "正文")


def test_forwarded_originals_are_the_forwarded_mails_in_order():
    """Each mail a message forwards, as bytes to record on its own: they parse back to
    the forwarded messages, in order; a base64-encoded one gives what was encoded, and
    mail forwarded inside those stays inside them."""
    inner = "From: =?utf-8?B?5p2O5Zub?= <lisi@scu.edu.cn>\r\nSubject: hi\r\n\r\n正文\r\n".encode()
    raw = (b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
           b"Content-Type: text/plain\r\n\r\ncover\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n"
           + _nested(2) + b"\r\n--x\r\nContent-Type: message/rfc822\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(inner) + b"--x--\r\n")
    msg = parse_message(raw)
    first, second = forwarded_originals(raw)
    assert second == inner
    again = [parse_message(first), parse_message(second)]
    assert [(m.sender, m.subject, m.text) for m in again] == [
        (m.sender, m.subject, m.text) for m in msg.forwarded]
    assert [m.subject for m in again[0].forwarded] == ["level1"]
    assert forwarded_originals(inner) == ()
    with pytest.raises(ParseError):
        forwarded_originals(b"")


def test_forwarded_originals_keep_every_body_byte():
    """Written back, a forwarded mail's bodies are the bytes that were sent: Foxmail's
    quoted-printable soft break "=\\r\\r\\n" (the stdlib's writer made it a line
    break inside a GBK character) and a boundary given in RFC 2231 form (its writer
    refused it) read the same as the forward read inside the bundle."""
    qp = quopri.encodestring("活动时间：2024年7月18日".encode("gbk")).replace(b"=\n", b"")
    foxmail = (b"From: hqglc@swmu.edu.cn\r\nSubject: plan\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/html; charset=GBK\r\n"
               b"Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>"
               + qp[:17] + b"=\r\r\n" + qp[17:] + b"</p>\r\n")
    rfc2231 = (b"From: 2291736655@qq.com\r\nSubject: video\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary*=utf-8''%E4%B8%AD\r\n\r\n"
               b"--\xe4\xb8\xad\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               + "视频链接见下".encode() + b"\r\n--\xe4\xb8\xad--\r\n")
    raw = (b"From: hqjjc@suse.edu.cn\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
           b"Content-Type: message/rfc822\r\n\r\n" + foxmail + b"\r\n--x\r\n"
           b"Content-Type: message/rfc822\r\n\r\n" + rfc2231 + b"\r\n--x--\r\n")
    originals = forwarded_originals(raw)
    assert [o.partition(b"\r\n\r\n")[2].rstrip(b"\r\n") for o in originals] == [
        m.partition(b"\r\n\r\n")[2].rstrip(b"\r\n") for m in (foxmail, rfc2231)]
    inside = parse_message(raw).forwarded
    assert [(m.text, m.html) for m in map(parse_message, originals)] == [
        (m.text, m.html) for m in inside]
    assert "2024年7月18日" in inside[0].html


# ------------------------------------------------ 8b. mails attached as .eml files
def test_mails_attached_as_eml_files_are_forwarded_mails():
    """QQ Mail (application/octet-stream), Outlook (application/x-message) and others
    (text/plain) attach a forwarded mail as a .eml file: it is read as a message/rfc822
    part is, its files its own; a note named .eml that is no mail stays a file."""
    msg = load("forwarded_eml_files_bundle.eml")
    assert msg.text == "秘书处老师好，转发川南片区三所学校的邮件，请查收。"
    assert [(a.filename, a.payload) for a in msg.attachments] == [("备注.eml", fx.NOT_A_MAIL)]
    assert [(m.sender, m.subject) for m in msg.forwarded] == [
        ("njtc_hq@njtc.edu.cn", "内江师范学院后勤参观校史馆新闻稿"),
        ("hqglc@swmu.edu.cn", "【新闻】西南医科大学后勤参观校史馆"),
        ("hq_dangzhibu@yibinu.edu.cn", "宜宾学院 视频链接")]
    njtc, swmu, yibinu = msg.forwarded
    assert only(njtc).filename == fx.NJTC_DOC and only(njtc).payload.startswith(b"PK")
    assert only(swmu).payload == fx.jpeg("西南医科大学参观合影")
    assert "参观照片见附件。" in swmu.text and "bilibili.com/video/" in yibinu.text
    assert noted(msg, "'内江师范学院新闻稿.eml' is a mail attached as a file")


def test_forwarded_originals_of_mails_attached_as_files_are_their_bytes():
    """The mail in an attached .eml file is handed on as the file's bytes, unchanged (LF
    or CRLF line ends, base64 or 8bit in transit), in the order ``forwarded`` lists it."""
    raw = (DATA / "forwarded_eml_files_bundle.eml").read_bytes()
    assert forwarded_originals(raw) == (fx.saved_njtc(), fx.saved_swmu(), fx.saved_yibinu())


def _attach(ctype: str, body: bytes, name: str = "") -> bytes:
    """A mail carrying *body* as one base64 part of type *ctype* (named *name*)."""
    named = f'; name="{name}"' if name else ""
    return (b"From: a@example.org\r\nSubject: fw\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
            + f"Content-Type: {ctype}{named}\r\n".encode()
            + b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(body)
            + b"--x--\r\n")


@pytest.mark.parametrize("ctype, name", [
    ("application/octet-stream", ""), ("application/x-message", "fw"),
    ("text/plain", "FW.EML "), ("application/pdf", "fw.eml")])
def test_a_mail_attached_as_a_file_is_known_by_its_type_or_name(ctype, name):
    (fwd,) = parse_message(_attach(ctype, fx.saved_swmu(), name)).forwarded
    assert fwd.subject == "【新闻】西南医科大学后勤参观校史馆"


@pytest.mark.parametrize("ctype, name, body", [
    ("text/plain", "fw.txt", fx.saved_swmu()),  # a mail's text in a .txt is a text
    ("application/octet-stream", "note.eml", fx.NOT_A_MAIL),
    ("application/octet-stream", "名单.txt", fx.TXT_GBK)])
def test_a_file_is_a_mail_only_by_its_content_and_its_type_or_name(ctype, name, body):
    msg = parse_message(_attach(ctype, body, name))
    assert msg.forwarded == () and only(msg).payload == body


def test_a_mail_in_another_message_type_is_forwarded_too():
    raw = (b"From: a@example.org\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
           b"Content-Type: message/news\r\n\r\n" + fx.saved_swmu() + b"\r\n--x--\r\n")
    (fwd,) = parse_message(raw).forwarded
    assert only(fwd).payload == fx.jpeg("西南医科大学参观合影")
    (original,) = forwarded_originals(raw)
    assert parse_message(original).subject == fwd.subject


MHTML = (b"From: <Saved by Blink>\r\nSnapshot-Content-Location: https://www.suse.edu.cn/\r\n"
         b"Subject: news\r\nDate: Mon, 15 Jul 2024 15:00:00 +0800\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/related; boundary=x\r\n\r\n--x--\r\n")


@pytest.mark.parametrize("data, mail", [
    (fx.saved_njtc(), True), (fx.saved_swmu(), True), (fx.saved_yibinu(), True),
    (b"From hq@swmu.edu.cn Thu Jul 11 09:00:00 2024\n" + fx.saved_njtc(), True),
    (b"From: a@b.cn\nSubject: x\nTo:\n  c@d.cn\n\nbody", True),  # a folded field
    (b"From: a@b.cn\nSubject: x\n\nbody", False),  # one field besides From
    (b"Subject: x\nDate: y\nTo: c@d.cn\n\nbody", False),  # no From
    (b"From: a@b.cn\nSubject: x\nDate: y\n", False),  # no end of the header block
    (b"\n" + fx.saved_njtc(), False), (b" " + fx.saved_njtc(), False),
    (fx.NOT_A_MAIL, False), (MHTML, False), (fx.TXT_GBK, False),
    (PAYLOADS["参观合影1.jpg"], False), (fx.MZ, False), (b"", False),
    ("王老师好：\nFrom: a@b.cn\nDate: x\nSubject: y\n\n".encode(), False)])
def test_looks_like_mail(data, mail):
    assert looks_like_mail(data) is mail


# ------------------------------------------------ 9. GBK body labelled gb2312
def test_gb2312_labelled_bodies_with_gbk_only_chars():
    fox = load("foxmail_gb2312_raw8bit_filename.eml")
    assert fox.text == fx.FOXMAIL_TEXT  # base64 body holding 喆
    assert "联系人王喆" in fox.html
    assert fox.headers["x-mailer"] == "Foxmail 7.2.25.228[cn]"
    assert noted(fox, "text/plain body: labelled gb2312", "gb18030")
    raw = load("raw8bit_gbk_subject_filename.eml")
    assert raw.text == fx.RAW_GBK_TEXT.strip()  # 8-bit body holding 喆 and 镕


# ------------------------------------------------ 10. attachments stay attachments, byte-identical
def test_text_plain_attachment_is_not_body_text():
    msg = load("text_attachment_not_body.eml")
    assert msg.text == "名单见附件。"
    att = only(msg)
    assert (att.filename, att.content_type, att.inline) == ("参会名单.txt", "text/plain", False)
    assert att.payload == fx.TXT_GBK


def test_outlook_meeting_request_calendar_part_is_named_by_its_type():
    """Outlook sends the invitation as an unnamed text/calendar part beside the text and
    HTML: it is a file named 邀请.ics, byte-identical; the text stays the body."""
    msg = load("outlook_meeting_request.eml")
    assert msg.text == fx.INVITE_TEXT.strip()
    att = only(msg)
    assert (att.filename, att.content_type, att.inline) == ("邀请.ics", "text/calendar", False)
    assert att.payload == fx.INVITE_ICS.encode("utf-8")


def test_payload_builders_make_real_file_types():
    jpg = PAYLOADS["参观合影1.jpg"]
    assert jpg[:3] == b"\xff\xd8\xff" and jpg[-2:] == b"\xff\xd9"
    assert PAYLOADS["logo.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert PAYLOADS["宣传海报（博物馆接力行）.pdf"].startswith(b"%PDF-1.4")
    assert PAYLOADS["博物馆接力行报名表（四川师范大学后勤党委）.wps"].startswith(b"\xd0\xcf\x11\xe0")
    assert PAYLOADS["活动方案-四川师范大学.docx"] == fx.docx("四川师范大学后勤党委 活动方案（博物馆接力行）")


# ------------------------------------------------ 11. garbage still parses; only non-mail raises
def test_garbage_headers_without_from_still_parse():
    msg = load("garbage_headers_no_from.eml")
    assert msg.sender is None and msg.sender_name == "" and msg.to == ()
    assert msg.text == "正文还在。"
    assert "broken" in msg.subject and "活动" in msg.subject and "\x00" not in msg.subject
    assert msg.date == datetime(2024, 11, 29, 10, 0, tzinfo=CST)
    assert noted(msg, "no time zone; assumed +08:00")
    assert noted(msg, "stray line dropped")


@pytest.mark.parametrize("raw", [
    b"", b"  \r\n\r\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
    b"\x89PNG\r\n\x1a\n" + bytes(40), b"%PDF-1.4\n%%EOF\n", b"hello, this is just prose\n",
    "Subject: str not bytes\r\n\r\n",
])
def test_non_mail_raises_parse_error(raw):
    with pytest.raises(ParseError, match="不是有效的邮件") as err:
        parse_message(raw)
    assert isinstance(err.value, ValueError)


def test_minimal_and_odd_messages_parse():
    assert parse_message(b"Subject: x").subject == "x"
    assert parse_message(b"From MAILER-DAEMON Mon Jan  1 00:00:00 2024\nFrom: a@b.cn\n\nx").sender \
        == "a@b.cn"
    msg = parse_message("\ufeffSubject: 你好\n\n正文".encode())
    assert (msg.subject, msg.text) == ("你好", "正文")


def test_truncated_fixtures_never_raise_anything_else():
    for path in sorted(DATA.glob("*.eml"))[:8]:
        raw = path.read_bytes()
        for cut in range(0, len(raw), 61):
            try:
                assert isinstance(parse_message(raw[:cut]), ParsedMessage)
            except ParseError:
                pass


# ------------------------------------------------ 12. the outside corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="outside mail corpus not present")
def test_outside_corpus_parses_or_raises_parse_error_only():
    files = sorted(p for p in CORPUS.glob("*/*") if p.is_file())
    assert len(files) > 300
    refused = []
    for path in files:
        try:
            msg = parse_message(path.read_bytes())
        except ParseError:
            refused.append(path)
            continue
        assert isinstance(msg, ParsedMessage), path
        assert msg.date is None or msg.date.tzinfo is not None, path
    mails = {p for p in files if p.parent.name != "LICENSES"}
    assert [p.name for p in refused if p in mails] == ["mail_outlook_1"]  # the OLE2 .msg
    bounces = [parse_message(p.read_bytes()) for p in sorted((CORPUS / "flufl-bounce").glob("*"))]
    assert sum(1 for b in bounces if b.sender) > 90


@pytest.mark.parametrize("value", ["Mon Nov 25 10:30:00 CST 2024", "Mon, 25 Nov 2024 10:30:00 CST"])
def test_cst_is_china_standard_time(value):
    """Campus OA systems (Java's Date.toString()) write CST for +08:00, not US Central."""
    raw = (f"From: oa@scu.edu.cn\r\nSubject: x\r\nDate: {value}\r\n\r\nbody\r\n").encode()
    msg = parse_message(raw)
    assert msg.date == datetime(2024, 11, 25, 10, 30, tzinfo=CST)
    assert any("CST" in d for d in msg.defects), msg.defects


@pytest.mark.parametrize("text", ["王伟", "李娜", "通知", "王喆.docx", "活动方案（成都大学）"])
def test_short_utf8_under_a_gbk_label_is_read_as_utf8(text):
    decoded, notes = decode_bytes(text.encode("utf-8"), "gbk")
    assert decoded == text and notes == ["labelled gbk but is UTF-8; decoded as utf-8"]


@pytest.mark.parametrize("text", ["通知", "小", "张三", "伪", "王喆", "活动方案", "成都大学"])
def test_short_gbk_stays_gbk(text):
    assert decode_bytes(text.encode("gbk"), "gbk") == (text, [])


def test_utf8_name_and_subject_in_gbk_encoded_words():
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    raw = (f"From: =?GBK?B?{b64('王伟')}?= <wangwei@scu.edu.cn>\r\nSubject: =?GBK?B?{b64('通知')}?=\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n").encode()
    msg = parse_message(raw)
    assert (msg.sender_name, msg.subject) == ("王伟", "通知")


GBK_HTML = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            '</head><body><p>各位老师好，活动方案见附件。</p></body></html>')


def test_gbk_body_under_a_latin1_label_is_read_as_gbk():
    raw = (b"From: a@scu.edu.cn\r\nSubject: x\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n"
           + GBK_HTML.encode("gbk"))
    msg = parse_message(raw)
    assert "各位老师好，活动方案见附件。" in msg.text
    assert any("decoded as gb18030" in d for d in msg.defects), msg.defects


def test_raw_gbk_header_is_not_read_with_a_latin1_body_label():
    raw = (b"From: a@scu.edu.cn\r\nSubject: " + "报名表（四川师范大学）".encode("gbk")
           + b"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nhello\r\n")
    assert parse_message(raw).subject == "报名表（四川师范大学）"


@pytest.mark.parametrize("text", ["très élevé", "Grüße aus Köln", "«café» naïve", "Ça coûte cher", "Öl über Ähren"])
def test_latin1_stays_latin1(text):
    assert decode_bytes(text.encode("cp1252"), "iso-8859-1") == (text, [])


@pytest.mark.parametrize("size", [3000, 60_000])  # 60 KB: the large-body (spans) path
def test_base64_cut_short_gives_the_bytes_that_arrived(size):
    """A transfer cut after 4n+1 base64 characters: the decodable prefix, never the base64
    text itself saved as the file."""
    data = os.urandom(size)
    chars = base64.b64encode(data)[:4 * (size // 6) + 1]  # cut after 4n+1 characters
    cut = b"\n".join(chars[i:i + 76] for i in range(0, len(chars), 76))
    raw = (b"From: a@scu.edu.cn\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n--b\r\n"
           b"Content-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + cut.replace(b"\n", b"\r\n") + b"\r\n--b--\r\n")
    (att,) = parse_message(raw).attachments
    assert len(att.payload) == 3 * (size // 6) and data.startswith(att.payload)


# ------------------------------------------------ Outlook's winmail.dat (TNEF)
WINMAIL = "outlook_tnef_winmail_dat.eml"


def _winmail_only(container: bytes) -> bytes:
    """An Outlook mail whose only part is winmail.dat (no text/plain beside it)."""
    return fx.crlf("From: zhurong@swjtu.edu.cn", "To: contact@example.org",
                   "Subject: =?gb2312?B?u+62r7e9sLg=?=", "MIME-Version: 1.0",
                   'Content-Type: application/ms-tnef; name="winmail.dat"',
                   'Content-Disposition: attachment; filename="winmail.dat"',
                   "Content-Transfer-Encoding: base64", "", fx.b64(container), "")


def test_outlook_winmail_dat_gives_its_files_under_their_gbk_names():
    msg = load(WINMAIL)
    doc, photo = msg.attachments
    assert (doc.filename, doc.content_type) == ("活动方案-四川师范大学.docx", DOCX)
    assert doc.payload == PAYLOADS["活动方案-四川师范大学.docx"]
    assert (photo.filename, photo.content_type) == ("参观合影1.jpg", "image/jpeg")
    assert photo.payload == PAYLOADS["参观合影1.jpg"]
    assert msg.text == fx.OUTLOOK_RTF_TEXT  # the text/plain part; winmail.dat's adds nothing
    assert noted(msg, "tnef", "unpacked: 2 file(s)")


def test_winmail_dat_text_is_the_body_when_the_mail_has_no_other():
    files = {"新闻稿-西南交通大学.docx": PAYLOADS["新闻稿-西南交通大学.docx"]}
    msg = parse_message(_winmail_only(fx.tnef(files, "附件是我校的新闻稿。\n朱镕")))
    assert msg.text == "附件是我校的新闻稿。\n朱镕"
    assert [(a.filename, a.payload) for a in msg.attachments] == list(files.items())


@pytest.mark.parametrize("damage", [lambda c: c[:-7], lambda c: c[:200], lambda c: c + b"junk"])
def test_a_damaged_winmail_dat_is_kept_as_sent_with_the_reason(damage):
    container = damage(fx.tnef({"活动方案.docx": PAYLOADS["活动方案-四川师范大学.docx"]}, "正文"))
    msg = parse_message(_winmail_only(container))
    assert [(a.filename, a.payload) for a in msg.attachments] == [("winmail.dat", container)]
    assert noted(msg, "tnef", "kept as sent")


def _attr(level: int, key: int, kind: int, data: bytes) -> bytes:
    """One TNEF attribute, as fx.tnef writes them ([MS-OXTNEF] 2.1.3.1)."""
    return struct.pack("<BHHI", level, key, kind, len(data)) + data + \
        struct.pack("<H", sum(data) & 0xFFFF)


def _embedding(container: bytes, message: bytes, subject: str) -> bytes:
    """*container* with one more item: the Outlook message *message* (a TNEF stream)
    attached as an item, as "forward as attachment" in rich text sends it: its display
    name (PidTagDisplayName, UTF-16) and PidTagAttachDataObject, IID_IMessage first."""
    obj = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46" + message
    name = subject.encode("utf-16-le") + b"\x00\x00"
    props = struct.pack("<I", 2)
    for kind, tag, value in ((0x001F, 0x3001, name), (0x000D, 0x3701, obj)):
        props += struct.pack("<HHII", kind, tag, 1, len(value)) + value + bytes(-len(value) % 4)
    return container + _attr(2, 0x9002, 0x0006, struct.pack("<HIhhI", 5, 0xFFFFFFFF, -1, -1, 0)) \
        + _attr(2, 0x9005, 0x0006, props)


def test_an_outlook_message_attached_in_winmail_dat_gives_its_files_too():
    """A district leader forwards a school's mail "as attachment" from Outlook in rich text:
    the school's files come out of the embedded message; winmail.dat is kept too (the
    forwarded mail's text and sender are only there), and the notes say so."""
    plan, photo = PAYLOADS["活动方案-四川师范大学.docx"], PAYLOADS["参观合影1.jpg"]
    school = fx.tnef({"活动方案.docx": plan}, "王喆老师好，附件是活动方案。")
    container = _embedding(fx.tnef({"合影.jpg": photo}, "转发各校材料。"), school, "四川师范大学活动方案")
    msg = parse_message(_winmail_only(container))
    assert [(a.filename, a.payload) for a in msg.attachments] == [
        ("合影.jpg", photo), ("活动方案.docx", plan), ("winmail.dat", container)]
    assert msg.text == "转发各校材料。"
    assert noted(msg, "tnef", "item 2 is an embedded Outlook message: 1 file(s) taken out")


def test_an_outlook_message_cut_short_inside_winmail_dat_gives_no_cut_file():
    """The embedded message's own framing is checked as the container's is: a message cut
    short inside an intact winmail.dat gives no file (tnefparse would hand out a shortened
    one as if whole); winmail.dat is kept and the notes say why."""
    plan, photo = PAYLOADS["活动方案-四川师范大学.docx"], PAYLOADS["参观合影1.jpg"]
    school = fx.tnef({"活动方案.docx": plan}, "王喆老师好，附件是活动方案。")
    container = _embedding(fx.tnef({"合影.jpg": photo}, "转发各校材料。"), school[:-7],
                           "四川师范大学活动方案")
    msg = parse_message(_winmail_only(container))
    assert [(a.filename, a.payload) for a in msg.attachments] == [
        ("合影.jpg", photo), ("winmail.dat", container)]
    assert noted(msg, "tnef", "item 2 is an embedded Outlook message cut short")


def test_a_winmail_dat_with_something_left_inside_is_listed_beside_what_came_out():
    doc = PAYLOADS["活动方案-四川师范大学.docx"]
    container = fx.tnef({"活动方案.docx": doc, "说明.txt": b""}, "正文")
    msg = parse_message(_winmail_only(container))
    assert [(a.filename, a.payload) for a in msg.attachments] == [
        ("活动方案.docx", doc), ("winmail.dat", container)]
    assert noted(msg, "tnef", "item 2", "winmail.dat kept too")
