"""Links in a message and the platform each belongs to; pure.

The URL patterns per platform are rule data (``rules/links.toml``), read once
by :func:`load_link_rules`.  :func:`find_links` collects every link of a body
(text plus ``<a href>`` targets), cleaned, unwrapped from mail providers'
"safe link" redirects and classified, with the file name, size and expiry
of mail providers' large attachments (QQ, 163/126, Coremail, iCloud Mail Drop)
and the Baidu Pan extraction code.  :func:`video_evidence` says which links
count as the notice's "视频或微信推文".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..config import read_toml
from ..errors import ConfigError
from .evidence import Evidence

LARGE = ("qq_large_attachment", "netease_large_attachment", "coremail_large_attachment",
         "icloud_mail_drop")
PLATFORMS = ("wechat_article", "wechat_channels", "bilibili", "douyin", "kuaishou",
             "tencent_video", "weibo", "youku", *LARGE, "baidu_pan", "other")
LABELS = {"wechat_article": "微信推文链接", "wechat_channels": "视频号链接",
          "bilibili": "B站视频链接", "douyin": "抖音视频链接", "kuaishou": "快手视频链接",
          "tencent_video": "腾讯视频链接", "weibo": "微博链接", "youku": "优酷视频链接",
          "qq_large_attachment": "QQ邮箱超大附件视频",
          "netease_large_attachment": "网易邮箱超大附件视频",
          "coremail_large_attachment": "Coremail邮箱超大附件视频",
          "icloud_mail_drop": "iCloud邮件寄送（Mail Drop）视频"}
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".wmv", ".flv", ".mkv", ".m4v")
MAIL_DROP_DAYS = 30  # an iCloud Mail Drop link expires this many days after sending
META_WINDOW = 3  # lines before/after a large-attachment link searched for "NAME (SIZE, DATE 到期)"

_I = re.IGNORECASE
_TRAILING = "，。；：！？、）】」』”’》〉…～.,;:!?)]}>'\""
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+\d*);", _I)  # only with ';': "&para=" stays
_URL_BODY = r"[!#-;=?-~]+"  # printable ASCII except space " < >; text URLs stop at Chinese text
_META = re.compile(r"[(（]\s*(?:(?P<size>\d+(?:\.\d+)?\s*[KMGT]?B?)\s*[,，](?P<rest>[^)）\n]{0,40})"
                   r"|(?P<bare>\d+(?:\.\d+)?\s*[KMGT]B?))\s*[)）]", _I)  # "(SIZE, DATE 到期)", "(SIZE)"
_DATE = r"\d{4}\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2})?"
_DATE_PARTS = re.compile(r"(\d{4})\D+(\d{1,2})\D+(\d{1,2})\D*(?:(\d{1,2}):(\d{2}))?")
_EXPIRY = re.compile(  # "2024年10月5日 11:31 到期", "有效期至2026-08-01", "15天后过期", "有效期15天"
    rf"(?:有效期(?:至|到|截止到?)|(?:到期|过期|截止)(?:时间|日期))\s*[:：]?\s*(?P<until>{_DATE})"
    rf"|(?P<at>{_DATE})\s*(?:之?前)?\s*(?:到期|过期|失效)"
    r"|(?P<after>\d{1,3})\s*天之?后\s*(?:到期|过期|失效)"
    r"|有效期\s*(?:[:：为]\s*)?(?P<for>\d{1,3})\s*天")
_PASSWORD = re.compile(r"(?:提取码|提取密码|访问码|密码|pwd)\s*[:：=]?\s*([a-z0-9]{4})(?![a-z0-9])",
                       _I)
_REDIRECTS = (  # (host, query keys holding the target) of mail providers' "safe link" pages
    (re.compile(r"(?:[\w-]+\.)*(?:mail|exmail)\.qq\.com", _I), ("gourl", "url")),
    (re.compile(r"(?:[\w-]+\.)*mail\.(?:163|126|yeah)\.com", _I), ("url",)),
    (re.compile(r"[\w-]+\.safelinks\.protection\.outlook\.com", _I), ("url",)),
)


@dataclass(frozen=True)
class Link:
    """One link.  ``url`` is cleaned (entities decoded, trailing punctuation
    stripped, ``https://`` added to a bare host); ``platform`` is one of
    :data:`PLATFORMS`; ``title``, ``size`` and ``expires`` (ISO
    "2024-10-05T11:31") describe a large attachment; ``password`` is a Baidu
    Pan extraction code.  Unknown fields are ""."""

    url: str
    platform: str
    title: str = ""
    size: str = ""
    expires: str = ""
    password: str = ""


@dataclass(frozen=True)
class LinkRules:
    """Compiled rule data: ``platforms`` pairs each platform name with its
    patterns, in the file's order; ``ignore`` drops provider images and
    trackers; ``finder`` finds URLs (with scheme, or a ``bare_hosts`` host)."""

    platforms: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    ignore: tuple[re.Pattern[str], ...]
    finder: re.Pattern[str]


def load_link_rules(path: Path) -> LinkRules:
    """Read ``rules/links.toml``.  Raises ConfigError naming the bad entry when a
    platform name is unknown or a pattern is not a valid regular expression."""
    data = read_toml(path)

    def compile_all(where: str, patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
        try:
            return tuple(re.compile(p, _I) for p in patterns)
        except re.error as exc:
            raise ConfigError([f"{path}: {where} 中的正则有误 (bad regex): {exc}"]) from exc

    platforms = []
    for entry in data.get("platform", []):
        name = entry.get("name", "")
        if name not in PLATFORMS or name == "other":
            raise ConfigError([f"{path}: 不认识的平台名 (unknown platform) {name!r}"])
        platforms.append((name, compile_all(name, entry.get("patterns", []))))
    hosts = "|".join(re.escape(h) for h in sorted(data.get("bare_hosts", []), key=len, reverse=True))
    bare = rf"|(?<![0-9A-Za-z_.@/-])(?:{hosts})/" if hosts else ""
    finder = re.compile(rf"(?:https?://{bare}){_URL_BODY}", _I)
    return LinkRules(tuple(platforms), compile_all("ignore", data.get("ignore", [])), finder)


def clean_url(url: str) -> str:
    """Decode HTML entities, trim blanks and trailing ASCII/full-width
    punctuation (a ``)`` only when unbalanced), and add ``https://`` to a
    scheme-less or protocol-relative URL.  Returns "" for anything else than
    http(s) (mailto:, tel:, cid:, javascript:...)."""
    url = _ENTITY.sub(lambda m: unescape(m.group()), url).strip()
    opens, closes = url.count("("), url.count(")")  # counted once: quadratic in ")))..." else
    while url and url[-1] in _TRAILING and not (url[-1] == ")" and opens >= closes):
        closes -= url[-1] == ")"
        url = url[:-1]
    if url.startswith("//"):
        url = "https:" + url
    elif not re.match(r"[a-z][\w+.-]*:", url, _I) and re.match(r"[\w-]+(?:\.[\w-]+)+/", url):
        url = "https://" + url
    return url if re.match(r"https?://[^/\s]", url, _I) else ""


def unwrap_redirect(url: str) -> str:
    """The link a mail provider's redirect wraps (QQ Mail ``readtemplate?t=safety&gourl=``,
    163/126 ``mail.163.com/...?url=``, Outlook safelinks ``?url=``), unwrapped again
    while nested, cleaned by :func:`clean_url`; ``url`` itself when it wraps no http(s) link."""
    for _ in range(3):  # nested at most this deep
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:  # "https://[x/": no valid host
            break
        keys = next((k for pattern, k in _REDIRECTS if pattern.fullmatch(host)), ())
        query = parse_qs(parts.query)
        target = next((clean_url(query[k][0]) for k in keys if k in query), "")
        if not target:
            break
        url = target
    return url


def platform_of(url: str, rules: LinkRules) -> str:
    """The first platform (in rule order) with a pattern matching ``url``, else "other"."""
    for name, patterns in rules.platforms:
        if any(p.search(url) for p in patterns):
            return name
    return "other"


def find_links(text: str, hrefs: Sequence[str], rules: LinkRules,
               sent: date | None = None) -> tuple[Link, ...]:
    """Every http(s) URL (or well-known bare host) in ``text``, then ``hrefs``,
    cleaned by :func:`clean_url` and :func:`unwrap_redirect`, de-duplicated keeping
    the first, without ``ignore``d ones, classified by :func:`platform_of`.  Large-attachment
    links get the "NAME (SIZE, DATE 到期)" line nearest before (else after)
    them within :data:`META_WINDOW` lines, not already taken; links not placed
    that way take the remaining such lines in order.  iCloud Mail Drop links carry
    their name and size (``f=``, ``sz=``).  A large attachment still without expiry
    takes the nearest "有效期至…"/"15天后过期" within the window (else the text's only
    one); days are counted from *sent*, the mail's date (a Mail Drop link otherwise
    expires :data:`MAIL_DROP_DAYS` after it).  Baidu Pan links get
    ``?pwd=`` or else a 提取码/密码 written after them on the same or next line."""
    found: dict[str, int | None] = {}  # url -> line number in text (None: only in hrefs)
    passwords: dict[str, str] = {}
    line, counted = 0, 0  # lines counted up to position `counted` (once: linear in text)
    for m in rules.finder.finditer(text):
        url = unwrap_redirect(clean_url(m.group()))
        if url and url not in found:
            line, counted = line + text.count("\n", counted, m.start()), m.start()
            found[url] = line
            passwords[url] = _password_after(text, m.start() + len(m.group()))
    for href in hrefs:
        found.setdefault(unwrap_redirect(clean_url(href)), None)
    links = [Link(url, platform_of(url, rules)) for url in found
             if url and not any(p.search(url) for p in rules.ignore)]
    lines = text.split("\n")
    metas = [meta for n, line in enumerate(lines) for meta in _metas(n, line, sent)]
    taken: set[int] = set()
    unplaced: list[int] = []
    for i, link in enumerate(links):
        if link.platform == "baidu_pan":
            pwd = parse_qs(urlsplit(link.url).query).get("pwd", [""])[0]
            links[i] = replace(link, password=pwd or passwords.get(link.url, ""))
        elif link.platform == "icloud_mail_drop":
            links[i] = _mail_drop(link)
        elif link.platform in LARGE:
            line = found[link.url]
            near = [] if line is None else sorted(
                (k for k, (n, _) in enumerate(metas) if k not in taken
                 and abs(n - line) <= META_WINDOW),
                key=lambda k: (metas[k][0] > line, abs(metas[k][0] - line)))
            if near:
                taken.add(near[0])
                links[i] = _with_meta(link, metas[near[0]][1])
            else:
                unplaced.append(i)
    rest = [k for k in range(len(metas)) if k not in taken]
    for i, k in zip(unplaced, rest):
        links[i] = _with_meta(links[i], metas[k][1])
    stated = [(n, when) for n, line in enumerate(lines)  # not a "NAME (SIZE, DATE 到期)"'s
              for m in _EXPIRY.finditer(_META.sub(" ", line)) if (when := _expiry(m, sent))]
    for i, link in enumerate(links):
        if link.platform in LARGE and not link.expires and stated:
            line = found[link.url]
            near = sorted((abs(n - line), when) for n, when in stated
                          if line is not None and abs(n - line) <= META_WINDOW)
            only = {when for _, when in stated}
            when = near[0][1] if near else (only.pop() if len(only) == 1 else "")
            links[i] = replace(link, expires=when)
    return tuple(replace(ln, expires=(sent + timedelta(days=MAIL_DROP_DAYS)).isoformat())
                 if ln.platform == "icloud_mail_drop" and not ln.expires and sent else ln
                 for ln in links)


def _password_after(text: str, end: int) -> str:
    """A 提取码 written after ``end`` on the same or the next line, before any other link."""
    first = text.find("\n", end)
    stop = -1 if first < 0 else text.find("\n", first + 1)
    window = text[end:] if stop < 0 else text[end:stop]
    window = re.split(r"https?://|pan\.baidu\.com", window, maxsplit=1, flags=_I)[0]
    m = _PASSWORD.search(window)
    return m.group(1) if m else ""


def _metas(n: int, line: str, sent: date | None) -> list[tuple[int, tuple[str, str, str]]]:
    """(line number, (name, size, expires)) of each "NAME (SIZE, DATE 到期)" or
    "NAME (SIZE)" in ``line``; NAME is what precedes the parenthesis, back to the previous one."""
    out, start = [], 0
    for m in _META.finditer(line):
        when = _EXPIRY.search(m["rest"] or "")
        expires = _expiry(when, sent) if when else ""
        size = m["size"] or m["bare"]
        out.append((n, (line[start:m.start()].strip(), re.sub(r"\s+", "", size), expires)))
        start = m.end()
    return out


def _expiry(m: re.Match[str], sent: date | None) -> str:
    """ISO "2026-08-01" or "2024-10-05T11:31" of an :data:`_EXPIRY` match; "" when it
    counts days and *sent* is unknown, or names no real date."""
    if m["after"] or m["for"]:
        days = int(m["after"] or m["for"])
        return (sent + timedelta(days=days)).isoformat() if sent else ""
    y, mo, d, h, mi = _DATE_PARTS.fullmatch(m["until"] or m["at"]).groups()
    try:
        day = date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return ""
    return f"{day}T{int(h):02d}:{mi}" if h and int(h) < 24 and int(mi) < 60 else day


def _mail_drop(link: Link) -> Link:
    """An iCloud Mail Drop link with the file name (``f=``) and size (``sz=`` bytes) it carries."""
    query = parse_qs(urlsplit(link.url).query)
    size = query.get("sz", [""])[0]
    return replace(link, title=query.get("f", [""])[0],
                   size=_size(int(size)) if size.isdigit() else "")


def _size(n: int) -> str:
    """Bytes as the providers write sizes: "486.52M", "1.20G", "356.00K"."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return f"{n / 1024:.2f}K"


def _with_meta(link: Link, meta: tuple[str, str, str]) -> Link:
    return replace(link, **dict(zip(("title", "size", "expires"), meta, strict=True)))


def video_evidence(links: Iterable[Link]) -> tuple[Evidence, ...]:
    """One ``Evidence("link.<platform>", "B站视频链接 https://...")`` per link that
    counts as "视频或微信推文": a video platform or WeChat link, or a large
    attachment whose file name ends in a video extension."""
    out = []
    for link in links:
        if link.platform in LARGE:
            if link.title.lower().endswith(VIDEO_EXTENSIONS):
                out.append(Evidence(f"link.{link.platform}",
                                    f"{LABELS[link.platform]} {link.title} {link.url}"))
        elif link.platform in LABELS:
            out.append(Evidence(f"link.{link.platform}", f"{LABELS[link.platform]} {link.url}"))
    return tuple(out)
