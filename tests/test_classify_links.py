"""Links in mail bodies are found, cleaned, classified and described."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest

from mailbot.classify.evidence import Evidence
from mailbot.classify.links import (
    Link,
    find_links,
    load_link_rules,
    platform_of,
    unwrap_redirect,
    video_evidence,
)
from mailbot.errors import ConfigError
from mailbot.parse import parse_message

ROOT = Path(__file__).resolve().parents[1]
RULES = load_link_rules(ROOT / "rules" / "links.toml")
DATA = Path(__file__).parent / "data"


def urls(text: str, hrefs=()) -> list[tuple[str, str]]:
    return [(link.url, link.platform) for link in find_links(text, hrefs, RULES)]


@pytest.mark.parametrize("url, platform", [
    ("https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv", "wechat_article"),
    ("https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=8a9b&chksm=ab#rd", "wechat_article"),
    ("https://weixin.qq.com/sph/AbCd12", "wechat_channels"),
    ("https://channels.weixin.qq.com/web/pages/feed?eid=x", "wechat_channels"),
    ("https://www.bilibili.com/video/BV1xK4y1C7aB?share_source=copy", "bilibili"),
    ("https://www.bilibili.com/video/av170001", "bilibili"),
    ("https://m.bilibili.com/video/BV1xK4y1C7aB", "bilibili"),
    ("https://b23.tv/AbC123", "bilibili"),
    ("https://v.douyin.com/iRNBmcJ8/", "douyin"),
    ("https://www.douyin.com/video/7301234567890123456", "douyin"),
    ("https://www.iesdouyin.com/share/video/7301234567890123456/", "douyin"),
    ("https://v.kuaishou.com/Jx2Ab3", "kuaishou"),
    ("https://www.kuaishou.com/short-video/3xabc123", "kuaishou"),
    ("https://v.qq.com/x/cover/mzc00200abc/x0045def.html", "tencent_video"),
    ("https://v.qq.com/x/page/x0045def.html", "tencent_video"),
    ("https://weibo.com/1234567890/NabcD", "weibo"),
    ("https://m.weibo.cn/status/4950000000000000", "weibo"),
    ("https://video.weibo.com/show?fid=1034:49500", "weibo"),
    ("https://v.youku.com/v_show/id_XNTk3MDAwMDAwMA==.html", "youku"),
    ("http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=abc&code=def", "qq_large_attachment"),
    ("https://wx.mail.qq.com/ftn/download?func=3&key=abc&code=def&k=ghi", "qq_large_attachment"),
    ("https://iwx.mail.qq.com/ftn/download?func=3&key=abc", "qq_large_attachment"),
    ("https://exmail.qq.com/cgi-bin/ftnExs_download?k=abc&s=email", "qq_large_attachment"),
    ("https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT&file=a",
     "netease_large_attachment"),
    ("https://fs.163.com/fs/display/?p=X-NETEASE-HUGE-ATTACHMENT&file=abc",
     "netease_large_attachment"),
    ("https://dashi.163.com/html/cloud-attachment-download/index.html?fid=1",
     "netease_large_attachment"),
    ("https://mail.xhu.edu.cn/coremail/common/nfFile.jsp?share_link=7C0F4E2A&uid=hq%40xhu.edu.cn",
     "coremail_large_attachment"),
    ("https://mail.cdut.edu.cn/coremail/XT5/jsp/download.jsp?share_link=A1B2&uid=a%40cdut.edu.cn",
     "coremail_large_attachment"),
    ("https://edu.icoremail.net/coremail/XT/jsp/download.jsp?sid=x&share_link=Q9",
     "coremail_large_attachment"),
    (("https://www.icloud.com/attachment/?u=https%3A%2F%2Fcvws.icloud-content.com%2FB%2FAb&uk=Xy"
      "&f=IMG_0420.MOV&sz=1048576"), "icloud_mail_drop"),
    ("https://mail.126.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT",
     "netease_large_attachment"),
    ("https://pan.baidu.com/s/1AbCdEfGhIjKlMnOpQrStUv?pwd=ab12", "baidu_pan"),
    ("https://www.scu.edu.cn/info/1011/12345.htm", "other"),
    ("https://v.qq.com/", "other"),
    ("https://mp.weixin.qq.com/", "other"),
])
def test_platform_of(url, platform):
    assert platform_of(url, RULES) == platform


@pytest.mark.parametrize("text, hrefs, expect", [
    # full-width punctuation right after a URL
    ("请查看https://b23.tv/AbC123。谢谢", (), [("https://b23.tv/AbC123", "bilibili")]),
    ("链接：https://b23.tv/AbC123，视频：https://v.qq.com/x/page/x0045def.html）", (),
     [("https://b23.tv/AbC123", "bilibili"),
      ("https://v.qq.com/x/page/x0045def.html", "tencent_video")]),
    # ASCII punctuation, brackets and quotes
    ("see (https://www.scu.edu.cn/a.htm). Or \"https://b23.tv/Q1\"!", (),
     [("https://www.scu.edu.cn/a.htm", "other"), ("https://b23.tv/Q1", "bilibili")]),
    ("<https://b23.tv/Q2>, https://zh.wikipedia.org/wiki/A_(B)", (),
     [("https://b23.tv/Q2", "bilibili"), ("https://zh.wikipedia.org/wiki/A_(B)", "other")]),
    # &amp; in hrefs; duplicates across text and hrefs keep the first
    ("文章 https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&sn=8a9b#rd",
     ("https://mp.weixin.qq.com/s?__biz=MzA3&amp;mid=2650&amp;sn=8a9b#rd",
      "https://b23.tv/AbC123", "https://b23.tv/AbC123"),
     [("https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&sn=8a9b#rd", "wechat_article"),
      ("https://b23.tv/AbC123", "bilibili")]),
    # entities without ';' are query parameters, not entities
    ("", ("https://www.scu.edu.cn/x?a=1&para=2&amp;b=3",),
     [("https://www.scu.edu.cn/x?a=1&para=2&b=3", "other")]),
    # Douyin share text with a bare-looking code after the URL
    ("7.89 复制打开抖音，看看【成都大学后勤的作品】后勤亮点 https://v.douyin.com/iRNBmcJ8/ yGI:/ 12/01", (),
     [("https://v.douyin.com/iRNBmcJ8/", "douyin")]),
    # bare well-known hosts without scheme
    ("抖音v.douyin.com/iRNBmcJ8/ 和 b23.tv/xY12z；网盘pan.baidu.com/s/1AbCdEf", (),
     [("https://v.douyin.com/iRNBmcJ8/", "douyin"), ("https://b23.tv/xY12z", "bilibili"),
      ("https://pan.baidu.com/s/1AbCdEf", "baidu_pan")]),
    # non-web schemes are ignored; provider signature images dropped
    ("写信 mailto:a@scu.edu.cn 电话 tel:028-1234", ("mailto:a@scu.edu.cn", "tel:02884760000",
     "cid:img001@qq.com", "javascript:void(0)", "https://thirdqq.qlogo.cn/g?b=sdk&k=1",
     "//v.qq.com/x/page/x0045def.html"),
     [("https://v.qq.com/x/page/x0045def.html", "tencent_video")]),
    ("", (), []),
])
def test_find_links_cleaning(text, hrefs, expect):
    assert urls(text, hrefs) == expect


WX = "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=8a9b#rd"
WX_Q = "https%3A%2F%2Fmp.weixin.qq.com%2Fs%3F__biz%3DMzA3%26mid%3D2650%26idx%3D1%26sn%3D8a9b%23rd"


@pytest.mark.parametrize("wrapped, target", [
    # QQ Mail's safety page (old and new web mail), exmail
    (f"https://mail.qq.com/cgi-bin/readtemplate?t=safety&check=false&gourl={WX_Q}&evil=0", WX),
    (f"https://wx.mail.qq.com/xmspamcheck/xmsafejump?url={WX_Q}", WX),
    (f"https://exmail.qq.com/cgi-bin/readtemplate?t=safety&gourl={WX_Q}", WX),
    # 163 / 126
    ("https://mail.163.com/js6/read/readhtml.jsp?url=https%3A%2F%2Fb23.tv%2FAbC123",
     "https://b23.tv/AbC123"),
    ("https://mail.126.com/cgi/redirect?url=https%3A%2F%2Fv.douyin.com%2FiRNBmcJ8%2F&sid=x",
     "https://v.douyin.com/iRNBmcJ8/"),
    # Outlook safelinks, also wrapping QQ's page
    (f"https://apc01.safelinks.protection.outlook.com/?url={WX_Q}&data=05%7C01&reserved=0", WX),
    ("https://nam12.safelinks.protection.outlook.com/?url=" + quote(
        f"https://mail.qq.com/cgi-bin/readtemplate?t=safety&gourl={WX_Q}", safe="") + "&data=x",
     WX),
    # not redirects: kept as they are
    ("http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=abc&code=def",
     "http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=abc&code=def"),
    ("https://mail.qq.com/cgi-bin/readtemplate?t=safety&gourl=javascript%3Aalert(1)",
     "https://mail.qq.com/cgi-bin/readtemplate?t=safety&gourl=javascript%3Aalert(1)"),
    ("https://www.scu.edu.cn/jump?url=https%3A%2F%2Fb23.tv%2FAbC123",
     "https://www.scu.edu.cn/jump?url=https%3A%2F%2Fb23.tv%2FAbC123"),
    ("https://[bad/?url=x", "https://[bad/?url=x"),
])
def test_unwrap_redirect(wrapped, target):
    assert unwrap_redirect(wrapped) == target


def test_baidu_pan_password_on_next_line_and_in_url():
    text = ("视频放在百度网盘：\n链接：https://pan.baidu.com/s/1AbCdEfGhIjKlMnOpQrStUv \n"
            "提取码：x7k9\n另一个 https://pan.baidu.com/s/1ZzZzZzZzZzZzZzZzZzZzZ?pwd=ab12 密码: qqqq\n"
            "第三个 https://pan.baidu.com/s/1NoCodeNoCodeNoCodeNoCo\n\n\n提取码: late")
    pans = find_links(text, (), RULES)
    assert [p.password for p in pans] == ["x7k9", "ab12", ""]
    assert find_links("链接: https://pan.baidu.com/s/1Ab 提取码: Ab3d 复制这段内容", (),
                      RULES)[0].password == "Ab3d"


QQ_TWO = """从QQ邮箱发来的超大附件

2024年后勤亮点视频.mp4 (486.52M, 2024年10月05日 11:31 到期)
进入下载页面：https://wx.mail.qq.com/ftn/download?func=3&key=abc&code=def&k=ghi

活动方案(终版).docx (1.2G, 2024年10月6日 9:05 到期)
进入下载页面：http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=xyz&code=uv
"""


def test_qq_large_attachments_each_get_their_metadata():
    a, b = find_links(QQ_TWO, (), RULES)
    assert a == Link("https://wx.mail.qq.com/ftn/download?func=3&key=abc&code=def&k=ghi",
                     "qq_large_attachment", "2024年后勤亮点视频.mp4", "486.52M", "2024-10-05T11:31")
    assert (b.title, b.size, b.expires) == ("活动方案(终版).docx", "1.2G", "2024-10-06T09:05")
    assert video_evidence((a, b)) == (Evidence(
        "link.qq_large_attachment", f"QQ邮箱超大附件视频 2024年后勤亮点视频.mp4 {a.url}"),)


def test_netease_large_attachment_name_after_link():
    text = ("从网易163邮箱发来的超大附件\n"
            "https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT"
            "&file=f1&title=a\n"
            "亮点视频.MOV (80.96M, 2026年8月17日 0:49 到期)\n"
            "https://fs.163.com/fs/display/?p=X-NETEASE-HUGE-ATTACHMENT&file=f2\n"
            "照片.zip (3.5M, 2026年8月18日 10:00 到期)\n")
    a, b = find_links(text, (), RULES)
    assert (a.platform, a.title, a.size, a.expires) == (
        "netease_large_attachment", "亮点视频.MOV", "80.96M", "2026-08-17T00:49")
    assert (b.title, b.expires) == ("照片.zip", "2026-08-18T10:00")
    assert [e.rule for e in video_evidence((a, b))] == ["link.netease_large_attachment"]


CM = "https://mail.cdut.edu.cn/coremail/common/nfFile.jsp?share_link={}&uid=hq%40cdut.edu.cn"


def test_coremail_large_attachments_get_name_size_and_stated_validity():
    text = ("从Coremail邮件系统发来的超大附件\n\n宣传片.mp4 (386.25M)\n"
            f"下载链接：{CM.format('A1')}\n有效期至2026-08-01\n\n"
            f"合影.zip (12.5M, 2026年8月3日 到期)\n{CM.format('B2')}\n")
    a, b = find_links(text, (), RULES)
    assert (a.platform, a.title, a.size, a.expires) == (
        "coremail_large_attachment", "宣传片.mp4", "386.25M", "2026-08-01")
    assert (b.title, b.size, b.expires) == ("合影.zip", "12.5M", "2026-08-03")
    assert video_evidence((a, b)) == (Evidence(
        "link.coremail_large_attachment", f"Coremail邮箱超大附件视频 宣传片.mp4 {a.url}"),)


def test_large_attachment_validity_in_days_counts_from_the_mail_date():
    text = f"超大附件下载（15天后过期）：\n{CM.format('C3')}\n"
    (link,) = find_links(text, (), RULES, date(2026, 7, 20))
    assert link.expires == "2026-08-04"
    assert find_links(text, (), RULES)[0].expires == ""  # no date to count from


def test_one_stated_validity_serves_links_only_in_html():
    text = "从Coremail邮件系统发来的超大附件\n宣传片.mp4\n一.mp4\n超大附件有效期至2026年8月1日 12:00"
    hrefs = (CM.format("D4"), CM.format("E5"))
    assert [x.expires for x in find_links(text, hrefs, RULES)] == ["2026-08-01T12:00"] * 2


def test_a_meta_line_of_another_link_is_no_validity_statement():
    text = (f"一.mp4 (10M, 2024年10月05日 11:31 到期)\n"
            "https://wx.mail.qq.com/ftn/download?k=1\n"
            f"{CM.format('F6')}\n")
    qq, cm = find_links(text, (), RULES)
    assert qq.expires == "2024-10-05T11:31" and cm.expires == ""


MAIL_DROP = ("https://www.icloud.com/attachment/?u=https%3A%2F%2Fcvws.icloud-content.com%2FB%2FAb"
             "&uk=Xy&f={}&sz={}")


def test_mail_drop_link_carries_name_and_size_and_expires_after_30_days():
    (link,) = find_links(MAIL_DROP.format("IMG_0420.MOV", 612843520), (), RULES, date(2024, 7, 18))
    assert (link.platform, link.title, link.size, link.expires) == (
        "icloud_mail_drop", "IMG_0420.MOV", "584.45M", "2024-08-17")
    assert video_evidence((link,)) == (Evidence(
        "link.icloud_mail_drop", f"iCloud邮件寄送（Mail Drop）视频 IMG_0420.MOV {link.url}"),)
    stated = find_links(f"{MAIL_DROP.format('a.pdf', 2048)}\n将于2024年8月10日过期", (), RULES,
                        date(2024, 7, 18))[0]
    assert (stated.title, stated.size, stated.expires) == ("a.pdf", "2.00K", "2024-08-10")
    assert find_links(MAIL_DROP.format("b.mp4", 3 << 30), (), RULES)[0].size == "3.00G"


@pytest.mark.parametrize("name, expect", [
    ("coremail_large_attachment_link.eml", ("coremail_large_attachment",
                                            "西华大学后勤博物馆接力行宣传片.mp4", "386.25M",
                                            "2024-08-01T23:59")),
    ("iphone_mail_drop_link.eml", ("icloud_mail_drop", "IMG_4821.MOV", "584.45M", "2024-08-17")),
])
def test_large_attachment_links_in_parsed_fixture(name, expect):
    msg = parse_message((DATA / name).read_bytes())
    (link,) = find_links(msg.text, msg.hrefs, RULES, msg.date.date())
    assert (link.platform, link.title, link.size, link.expires) == expect


def test_html_large_attachment_metadata_paired_in_order():
    text = ("从QQ邮箱发来的超大附件\n\n一.mp4 (10M, 2024年10月05日 11:31 到期)\n进入下载页面\n"
            "二.avi (20M, 2024年10月06日 11:31 到期)\n进入下载页面")
    hrefs = ("https://wx.mail.qq.com/ftn/download?k=1", "https://wx.mail.qq.com/ftn/download?k=2")
    assert [(x.title, x.size) for x in find_links(text, hrefs, RULES)] == [
        ("一.mp4", "10M"), ("二.avi", "20M")]


def test_video_evidence_counts_video_platforms_only():
    links = find_links("https://b23.tv/AbC123 https://mp.weixin.qq.com/s/AbCd "
                       "https://pan.baidu.com/s/1Ab https://www.scu.edu.cn/ "
                       "https://wx.mail.qq.com/ftn/download?k=9", (), RULES)
    assert video_evidence(links) == (
        Evidence("link.bilibili", "B站视频链接 https://b23.tv/AbC123"),
        Evidence("link.wechat_article", "微信推文链接 https://mp.weixin.qq.com/s/AbCd"))


@pytest.mark.parametrize("name, expect", [
    ("html_only_gbk_links.eml", [
        ("https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv", "wechat_article"),
        ("https://www.bilibili.com/video/BV1xK4y1C7aB?share_source=copy&vd_source=1", "bilibili")]),
    ("html_only_utf8_links.eml", [
        ("https://b23.tv/Ab12Cd3", "bilibili"),
        ("https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=8a9b#rd", "wechat_article")]),
    # QQ Mail wraps links in its safety redirect (readtemplate?t=safety&gourl=...)
    ("qqmail_safety_redirect_link.eml", [
        ("https://mp.weixin.qq.com/s/Qq1xQq2xQq3xQq4xQq5xQq", "wechat_article")]),
])
def test_links_in_parsed_fixture(name, expect):
    msg = parse_message((DATA / name).read_bytes())
    assert urls(msg.text, msg.hrefs) == expect


def test_bad_rules_are_reported(tmp_path):
    bad = tmp_path / "links.toml"
    bad.write_text('[[platform]]\nname = "tiktok"\npatterns = []\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="tiktok"):
        load_link_rules(bad)
    bad.write_text("[[platform]]\nname = \"douyin\"\npatterns = ['''(''']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="douyin"):
        load_link_rules(bad)


def test_a_link_in_the_mail_a_reply_quotes_is_not_the_repliers():
    """成都文理学院 replies to its leader's reminder, which cites 宜宾学院's article (plain
    text and HTML anchor): the reply sends a plan, not a video."""
    from datetime import UTC, datetime
    from email.message import EmailMessage

    from mailbot import config
    from mailbot.classify.engine import classify, load_rulebook
    cfg = config.load(ROOT / "config.example.toml")
    rules = load_rulebook(cfg.rules_dir)
    when = datetime(2024, 7, 8, 3, 0, tzinfo=UTC)
    v = classify(parse_message((DATA / "reply_quotes_another_schools_article.eml").read_bytes()),
                 rules, cfg.campaign, when)
    assert (v.school, v.kinds, v.links) == ("成都文理学院", ("plan",), ())
    article = "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv"
    msg = EmailMessage()
    msg["From"], msg["To"] = "2345678@qq.com", "344523819@qq.com"
    msg["Subject"] = "Re: 关于报送接力行材料的提醒"
    msg.set_content("我校推文：https://mp.weixin.qq.com/s/OwnArticle123\n成都文理学院后勤处\n\n"
                    f"On Mon, 8 Jul 2024 at 09:21 <hqjjc@suse.edu.cn> wrote:\n> 宜宾学院 {article}\n")
    msg.add_alternative(f'<p>我校<a href="https://mp.weixin.qq.com/s/OwnArticle123">推文</a></p>'
                        f'<p>成都文理学院后勤处</p><div>On Mon, 8 Jul 2024 at 09:21 &lt;hqjjc@suse.edu.cn&gt;'
                        f' wrote:<blockquote><a href="{article}">宜宾学院推文</a></blockquote></div>',
                        subtype="html")
    v = classify(parse_message(msg.as_bytes()), rules, cfg.campaign, when)
    assert [ln.url for ln in v.links] == ["https://mp.weixin.qq.com/s/OwnArticle123"]
    forwarded = msg.get("Subject").replace("Re:", "转发：")
    msg.replace_header("Subject", forwarded)  # a forward keeps what it passes on
    assert article in [ln.url for ln in classify(parse_message(msg.as_bytes()), rules,
                                                 cfg.campaign, when).links]
