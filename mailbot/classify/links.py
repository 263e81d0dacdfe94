"""Links in a message and the platform each belongs to; pure.

The URL patterns per platform are rule data (``rules/links.toml``), read once
by :func:`load_link_rules`.  :func:`find_links` collects every link of a body
(text plus ``<a href>`` targets), cleaned, unwrapped from mail providers'
"safe link" redirects and classified, with the file name, size and expiry
of mail providers' large attachments and the Baidu Pan extraction code.  :func:`video_evidence` says which links count as the
notice's "视频或微信推文".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..config import read_toml
from ..errors import ConfigError
from .evidence import Evidence

PLATFORMS = ("wechat_article", "wechat_channels", "bilibili", "douyin", "kuaishou",
             "tencent_video", "weibo", "youku", "qq_large_attachment",
             "netease_large_attachment", "baidu_pan", "other")
LARGE = ("qq_large_attachment", "netease_large_attachment")
LABELS = {"wechat_article": "微信推文链接", "wechat_channels": "视频号链接",
          "bilibili": "B站视频链接", "douyin": "抖音视频链接", "kuaishou": "快手视频链接",
          "tencent_video": "腾讯视频链接", "weibo": "微博链接", "youku": "优酷视频链接",
          "qq_large_attachment": "QQ邮箱超大附件视频",
          "netease_large_attachment": "网易邮箱超大附件视频"}
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".wmv", ".flv", ".mkv", ".m4v")
META_WINDOW = 3  # lines before/after a large-attachment link searched for "NAME (SIZE, DATE 到期)"

_I = re.IGNORECASE
_TRAILING = "，。；：！？、）】」』”’》〉…～.,;:!?)]}>'\""
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+\d*);", _I)  # only with ';': "&para=" stays
_URL_BODY = r"[!#-;=?-~]+"  # printable ASCII except space " < >; text URLs stop at Chinese text
_META = re.compile(r"[(（]\s*(?P<size>\d+(?:\.\d+)?\s*[KMGT]?B?)\s*[,，]"
                   r"\s*(?:(?P<y>\d{4})年(?P<mo>\d{1,2})月(?P<d>\d{1,2})日\s*(?P<h>\d{1,2}):"
                   r"(?P<mi>\d{2})\s*到期|[^)）\n]{0,40})\s*[)）]", _I)
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


def find_links(text: str, hrefs: Sequence[str], rules: LinkRules) -> tuple[Link, ...]:
    """Every http(s) URL (or well-known bare host) in ``text``, then ``hrefs``,
    cleaned by :func:`clean_url` and :func:`unwrap_redirect`, de-duplicated keeping
    the first, without ``ignore``d ones, classified by :func:`platform_of`.  Large-attachment
    links get the "NAME (SIZE, DATE 到期)" line nearest before (else after)
    them within :data:`META_WINDOW` lines, not already taken; links not placed
    that way take the remaining such lines in order.  Baidu Pan links get
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
    metas = [meta for n, line in enumerate(text.split("\n")) for meta in _metas(n, line)]
    taken: set[int] = set()
    unplaced: list[int] = []
    for i, link in enumerate(links):
        if link.platform == "baidu_pan":
            pwd = parse_qs(urlsplit(link.url).query).get("pwd", [""])[0]
            links[i] = replace(link, password=pwd or passwords.get(link.url, ""))
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
    return tuple(links)


def _password_after(text: str, end: int) -> str:
    """A 提取码 written after ``end`` on the same or the next line, before any other link."""
    first = text.find("\n", end)
    stop = -1 if first < 0 else text.find("\n", first + 1)
    window = text[end:] if stop < 0 else text[end:stop]
    window = re.split(r"https?://|pan\.baidu\.com", window, maxsplit=1, flags=_I)[0]
    m = _PASSWORD.search(window)
    return m.group(1) if m else ""


def _metas(n: int, line: str) -> list[tuple[int, tuple[str, str, str]]]:
    """(line number, (name, size, expires)) of each "NAME (SIZE, DATE 到期)" in
    ``line``; NAME is what precedes the parenthesis, back to the previous one."""
    out, start = [], 0
    for m in _META.finditer(line):
        expires = ""
        if m["y"]:
            expires = f"{m['y']}-{int(m['mo']):02d}-{int(m['d']):02d}T{int(m['h']):02d}:{m['mi']}"
        out.append((n, (line[start:m.start()].strip(), re.sub(r"\s+", "", m["size"]), expires)))
        start = m.end()
    return out


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
