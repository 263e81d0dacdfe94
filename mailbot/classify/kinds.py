"""What a mail delivers: an activity plan, news, a video or WeChat article (any mix).

Pure.  The keywords, cue words, quote markers, notice phrases and file
extensions are data (``rules/kinds.toml``, read by :func:`load_kind_rules`);
:func:`detect_kinds` weighs them and returns every decision with evidence.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..config import read_toml
from ..errors import ConfigError
from ..parse import Attachment, ParsedMessage
from .evidence import Evidence
from .plan import PlanRules, plan_rules

KINDS = ("plan", "news", "video")
KIND_ZH = {"plan": "活动方案", "news": "新闻", "video": "视频/推文"}
_URL = re.compile(r"(?:https?://|www\.)[!#-;=?-~]+", re.IGNORECASE)
_SENTENCE = re.compile(r"[^。!?;\n]+[。!?;]?")


@dataclass(frozen=True)
class KindRules:
    """The data of ``rules/kinds.toml``; words are NFKC-folded, lower case, longest first."""

    keywords: Mapping[str, tuple[str, ...]]  # kind -> keywords
    cues: tuple[str, ...]
    later: tuple[str, ...]  # a cue sentence with one of these promises, it delivers nothing
    news_marks: tuple[str, ...]
    question_words: tuple[str, ...]
    quote_markers: tuple[re.Pattern, ...]
    reply_subject: re.Pattern
    forward_subject: re.Pattern
    notice_phrases: tuple[str, ...]
    notice_min_phrases: int
    long_body_chars: int
    client_tags: tuple[re.Pattern, ...]  # a line a mail client adds ("发自我的iPhone")
    documents: frozenset[str]
    images: frozenset[str]
    videos: frozenset[str]
    archives: frozenset[str]
    min_inline_image_bytes: int
    ignore_image_names: tuple[str, ...]
    min_plan_fields: int
    plan: PlanRules


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\r", "")


def load_kind_rules(path: Path) -> KindRules:
    """Read ``rules/kinds.toml``; raises ConfigError listing every problem."""
    data = read_toml(path)
    problems: list[str] = []

    def get(dotted: str, kind: type):
        table, _, key = dotted.rpartition(".")
        value = data.get(table, {}).get(key) if isinstance(data.get(table), dict) else None
        ok = isinstance(value, kind) and not isinstance(value, bool) and (
            kind is not list or all(isinstance(x, str) and x.strip() for x in value))
        if not ok:
            what = "字符串列表 (a list of strings)" if kind is list else f"{kind.__name__}"
            problems.append(f"{path}: {dotted}: 缺失或应为 {what}")
        return value if ok else kind()

    def words(dotted: str) -> tuple[str, ...]:
        return tuple(sorted(dict.fromkeys(_norm(w).strip().lower() for w in get(dotted, list)),
                            key=len, reverse=True))

    def regex(dotted: str, flags: int, pattern: str | None = None) -> re.Pattern:
        pattern = get(dotted, str) if pattern is None else pattern
        try:
            return re.compile(pattern or "(?!)", flags)
        except re.error as e:
            problems.append(f"{path}: {dotted}: 正则表达式有误 (bad regex {pattern!r}): {e}")
            return re.compile("(?!)")

    try:
        plan = plan_rules(data.get("plan", {}))
    except ValueError as e:
        problems.append(f"{path}: {e}")
        plan = plan_rules({})
    markers = tuple(regex(f"quote.markers[{i}]", re.MULTILINE | re.IGNORECASE, x)
                    for i, x in enumerate(get("quote.markers", list)))
    rules = KindRules(
        keywords={k: words(f"keywords.{k}") for k in KINDS}, cues=words("body.cues"),
        later=words("body.later") if "later" in data.get("body", {}) else (),  # optional
        news_marks=words("body.news_marks"), question_words=words("body.question_words"),
        quote_markers=markers, reply_subject=regex("quote.reply_subject", re.IGNORECASE),
        forward_subject=regex("quote.forward_subject", re.IGNORECASE),
        notice_phrases=words("quote.notice_phrases"),
        notice_min_phrases=get("quote.notice_min_phrases", int),
        long_body_chars=get("body.long_body_chars", int),
        client_tags=tuple(regex(f"body.client_tags[{i}]", re.IGNORECASE, x)  # optional
                          for i, x in enumerate(get("body.client_tags", list)
                                                if "client_tags" in data.get("body", {}) else ())),
        documents=frozenset(words("attachments.documents")),
        images=frozenset(words("attachments.images")),
        videos=frozenset(words("attachments.videos")),
        archives=frozenset(words("attachments.archives")),
        min_inline_image_bytes=get("attachments.min_inline_image_bytes", int),
        ignore_image_names=words("attachments.ignore_image_names"),
        min_plan_fields=get("plan.min_fields", int), plan=plan)
    if problems:
        raise ConfigError(problems)
    return rules


def _find(text: str, words: Sequence[str]) -> str | None:
    """The longest of ``words`` (folded, lower case) in ``text``, or None."""
    text = text.lower()
    return next((w for w in words if w in text), None)


def _clip(text: str, size: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size] + "…"


def own_text(text: str, rules: KindRules, keep_quoted: bool = False) -> str:
    """The sender's own words in a body (NFKC-folded): text after a reply or
    forward marker is cut (unless ``keep_quoted``), ">" lines dropped, and when
    the body holds a pasted notice (``notice_min_phrases`` of its phrases), the
    sentences carrying those phrases are dropped."""
    text = _unquote(_norm(text), rules, cut=not keep_quoted)
    pasted = {p for p in rules.notice_phrases if p in _flat(text)}
    if len(pasted) >= max(rules.notice_min_phrases, 1):
        text = "\n".join(s for s in _SENTENCE.findall(text)
                         if not any(p in _flat(s) for p in rules.notice_phrases))
    return text


def unquoted(text: str, subject: str, rules: KindRules) -> str:
    """*text* (as sent, not folded) of a reply ("回复：", "Re:") without what it quotes: cut at
    the first quote marker, ">" lines dropped.  What names the sender's school or link must
    be the sender's own words (iPhone, Gmail, Thunderbird quote "在…写道："); any other mail
    is kept whole (a line of underscores may open a signature, a forward quotes a school)."""
    return _unquote(text, rules) if rules.reply_subject.match(subject or "") else text


def _unquote(text: str, rules: KindRules, cut: bool = True) -> str:
    """*text* cut at its first quote marker (with *cut*), its ">" lines dropped."""
    if cut:
        text = text[:min((m.start() for rx in rules.quote_markers if (m := rx.search(text))),
                         default=len(text))]
    return "\n".join(x for x in text.split("\n") if not x.lstrip().startswith(">"))


def sender_text(msg: ParsedMessage, rules: KindRules) -> str:
    """``msg.text`` without what it quotes (see :func:`own_text`); a "转发："
    mail keeps the mail it forwards inline.  Give this, not ``msg.text``, to
    :func:`~mailbot.classify.plan.check_plan`: a reply that quotes the notice
    would otherwise lend the plan the notice's "联系人：…" lines."""
    return own_text(msg.text, rules, keep_quoted=bool(rules.forward_subject.match(
        _norm(msg.subject))))


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _question(text: str, rules: KindRules) -> str | None:
    """A sentence of ``text`` that is a question ("请问…？"), or None."""
    for s in _SENTENCE.findall(_URL.sub(" ", text)):
        if s.endswith("?") and _find(s, rules.question_words):
            return s.strip()
    return None


def _file_kind(att: Attachment, ext: str, rules: KindRules) -> str:
    """"image", "video", "archive", "document" or "other", by extension, type, then bytes."""
    head, ctype = att.payload[:16], att.content_type
    brand = head[8:12] if head[4:8] == b"ftyp" else b""
    for kind, exts, prefix in (("image", rules.images, "image/"), ("video", rules.videos, "video/"),
                               ("archive", rules.archives, "application/zip"),
                               ("document", rules.documents, "application/pdf")):
        if ext in exts or ctype.startswith(prefix):
            return kind
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8")) or brand in (b"heic", b"avif"):
        return "image"
    return "video" if brand else "other"


def may_hold_text(att: Attachment, rules: KindRules) -> bool:
    """Whether *att* may be where a mail's text is (a document, archive or photo, not a
    signature's logo or a small inline icon): one giving no text leaves the plan unread."""
    low = unicodedata.normalize("NFKC", att.filename).strip().lower().rstrip(". ")
    kind = _file_kind(att, "." + low.rsplit(".", 1)[1].strip() if "." in low else "", rules)
    if kind == "image":
        return not _find(low, rules.ignore_image_names) and not (
            att.inline and len(att.payload) < rules.min_inline_image_bytes)
    return kind in ("document", "archive")


@dataclass
class _Seen:
    """What a mail (with its forwarded mail) shows; filled by :func:`_scan`."""

    content: list = field(default_factory=list)  # (kind, Evidence): delivered for sure
    words: list = field(default_factory=list)  # (kind, Evidence, fallback): what it says it is
    photos: list = field(default_factory=list)  # (name, kind its name says or None)
    unnamed: list = field(default_factory=list)  # documents, archives, links telling nothing
    in_body: set = field(default_factory=set)  # kinds a long body says it is (plan, news)
    video_links: Sequence[Evidence] = ()
    notes: list = field(default_factory=list)  # ignored images and the like
    question: str | None = None


def _attachments(msg: ParsedMessage, rules: KindRules, where: str, seen: _Seen) -> None:
    """Sort ``msg``'s attachments into content, photos, unnamed files and ignored images."""
    for att in msg.attachments:
        name = unicodedata.normalize("NFKC", att.filename).strip()
        low = name.lower().rstrip(". ")
        kind = _file_kind(att, "." + low.rsplit(".", 1)[1].strip() if "." in low else "", rules)
        label = f"{where}附件 {name or att.content_type}"
        named = [(k, kw) for k in KINDS if (kw := _find(low, rules.keywords[k]))]
        if kind == "image" and (mark := _find(low, rules.ignore_image_names)):
            seen.notes.append(Evidence("kind.ignored",
                                       f"{label} 名称含“{mark}”，是签名或标识图片，不计"))
        elif kind == "image" and att.inline and len(att.payload) < rules.min_inline_image_bytes:
            seen.notes.append(Evidence("kind.ignored", f"{label} 是正文中的小图片（"
                                       f"{len(att.payload)} 字节），多为签名或图标，不计"))
        elif kind == "video":
            ev = Evidence("kind.attachment", f"{label} 为视频文件 → 视频/推文")
            seen.content.append(("video", ev))
        elif kind == "image":
            seen.photos.append((f"{where} {name}".strip() if name else att.content_type,
                                next((k for k, _ in named if k != "video"), None)))
        elif kind in ("document", "archive"):  # executables etc. deliver nothing
            seen.content += [(k, Evidence("kind.attachment",
                                          f"{label} 名称含“{kw}” → {KIND_ZH[k]}")) for k, kw in named]
            inside = _archive_kinds(att.payload, rules) if kind == "archive" else []
            seen.content += [(k, Evidence("kind.attachment", f"{label} 内含{what} → {KIND_ZH[k]}"))
                             for k, what in inside]
            if not named and not inside:
                seen.unnamed.append(label)


def _archive_kinds(data: bytes, rules: KindRules) -> list[tuple[str, str]]:
    """(kind, what) for the photos and videos inside a zip."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return []
    exts = ["." + n.lower().rsplit(".", 1)[-1] for n in names if "." in n]
    return [(k, f" {n} {unit}") for k, group, unit in (("news", rules.images, "张图片"),
                                                       ("video", rules.videos, "个视频"))
            if (n := sum(e in group for e in exts))]


def _scan(msg: ParsedMessage, rules: KindRules, where: str, seen: _Seen) -> None:
    """Record what ``msg`` and the mail forwarded inside it show."""
    subject = _norm(msg.subject)
    forward = rules.forward_subject.match(subject)
    body = own_text(msg.text, rules, keep_quoted=bool(forward))
    asks = _question(subject, rules)
    seen.question = seen.question or asks or _question(body, rules)
    said = [(subject, f"{where}主题", "subject", bool(asks or rules.reply_subject.match(subject)))]
    if forward:  # the "主题：" line of a mail forwarded inline
        said += [(m[1], f"{where}转发原邮件主题", "forwarded", False) for m in
                 re.finditer(r"^\s*(?:主题|subject)\s*:(.+)$", body, re.MULTILINE | re.IGNORECASE)]
    said += [(s, f"{where}正文“{_clip(s)}”", "body", False) for s in _SENTENCE.findall(body)
             if not s.endswith("?") and _find(s, rules.cues) and not _find(s, rules.later)]
    mine, done = [], set()  # this message's words; (kind, place) already said
    for text, source, place, fallback in said:
        for k in KINDS:
            if (kw := _find(text, rules.keywords[k])) and (k, place) not in done:
                done.add((k, place))
                mine.append((k, Evidence("kind.keyword", f"{source}含“{kw}” → {KIND_ZH[k]}"),
                             fallback))
    seen.words += mine
    if mark := _find(body, rules.news_marks):
        seen.content.append(("news", Evidence("kind.body", f"{where}正文含署名“{mark}” → 新闻")))
    exts = "|".join(re.escape(e) for e in sorted(rules.videos)) or "(?!)"
    # tried only where a name starts: from every position it was quadratic in a long token
    if big := re.search(rf"(?<![^\s/\\:*?\"<>|])[^\s/\\:*?\"<>|]+(?:{exts})(?![a-z0-9])",
                        body, re.IGNORECASE):
        seen.content.append(("video", Evidence("kind.attachment", f"{where}正文提到视频文件 "
                                               f"{big[0]}（超大附件） → 视频/推文")))
    if len(_flat(_URL.sub("", body))) >= rules.long_body_chars:  # a plan or news in the body
        says = {k for k, _, _ in ([w for w in mine if not w[2]] or mine)}
        seen.in_body |= says & {"plan", "news"}
    video_urls = {e.detail.rpartition(" ")[2] for e in seen.video_links}  # a detail ends in it
    for url in dict.fromkeys([*_URL.findall(body), *msg.hrefs]):
        if len(seen.unnamed) >= 3:  # only the first three are ever shown: stop (quadratic)
            break
        url = url.rstrip(".,;:!?)]}>'\"")
        parts = urlsplit(url if "://" in url else "http://" + url)
        home = re.fullmatch(r"((index|default|main|home)\.\w+)?", parts.path.strip("/").lower())
        if parts.scheme in ("http", "https") and not (home and not parts.query) and \
                url not in video_urls and \
                not any(url in e.detail for e in seen.video_links):  # not a signature's home page
            seen.unnamed.append(f"{where}链接 {_clip(url, 50)}")
    _attachments(msg, rules, where, seen)
    for inner in msg.forwarded:
        _scan(inner, rules, f"{where}转发邮件《{_clip(inner.subject, 20)}》中", seen)


def detect_kinds(msg: ParsedMessage, rules: KindRules, video_links: Sequence[Evidence] = (),
                 plan_fields_found: int = 0, documents: Sequence[str] = ()
                 ) -> tuple[tuple[str, ...], tuple[Evidence, ...]]:
    """Kinds ``msg`` delivers, in the order ("plan", "news", "video"), with evidence.

    A kind needs something delivered.  Decided by content: photos → news,
    video files or ``video_links`` (from the link detector) → video,
    documents named with a keyword → that kind, a news byline → news,
    ``plan_fields_found`` >= ``[plan] min_fields`` → plan; forwarded mail
    counts too (small inline and signature/logo images do not).  Keywords
    (subject, and the sender's own body sentences with a cue word such as
    "附件是…活动方案"; never quoted text or a pasted notice) name the kind of
    what content remains: documents whose names tell nothing, a long body
    (plan or news only), photos (plan if the words say plan, not news).
    Keywords of a "回复：" or question subject are used only when the body
    names nothing.  Documents whose names and mail tell nothing are news when the text of
    one (*documents*) carries a byline.  Announcements and questions with nothing
    attached → ().
    """
    seen = _Seen(video_links=video_links)
    _scan(msg, rules, "", seen)
    if video_links:
        more = f" 等 {len(video_links)} 个" if len(video_links) > 1 else ""
        seen.content.append(("video", Evidence("kind.link", f"含链接 {video_links[0].detail}"
                                                            f"{more} → 视频/推文")))
    if plan_fields_found >= rules.min_plan_fields:
        seen.content.append(("plan", Evidence("kind.fields", f"正文或附件含方案模板 "
                                                             f"{plan_fields_found} 项 → 活动方案")))
    words = [w for w in seen.words if not w[2]] or seen.words
    said = {k for k, _, _ in words}
    found = {k for k, _ in seen.content}
    evidence = [e for _, e in seen.content]
    scan = "plan" if "plan" in said and "news" not in said else "news"  # a photographed plan
    for k in KINDS:
        if names := [n for n, named in seen.photos if (named or scan) == k]:
            more = f" 等 {len(names)} 张" if len(names) > 3 else ""
            evidence.append(Evidence("kind.attachment", f"附件 {'、'.join(names[:3])}{more} "
                                                        f"为图片 → {KIND_ZH[k]}"))
            found.add(k)
    if seen.unnamed and said:
        evidence.append(Evidence("kind.unnamed", f"{'、'.join(seen.unnamed[:3])} 的名称看不出类型，"
                                 f"按来信所说 → {'、'.join(KIND_ZH[k] for k in KINDS if k in said)}"))
    found |= (said if seen.unnamed else set()) | seen.in_body
    if not found and seen.unnamed and (mark := next(  # documents named and sent with no word
            (m for t in documents if (m := _find(t, rules.news_marks))), None)):
        found.add("news")  # of their kind: a 供稿/摄影 byline inside makes them news (never
        evidence.append(Evidence("kind.body", f"附件文档含署名“{mark}” → 新闻"))  # beside a plan)
    kinds = tuple(k for k in KINDS if k in found)
    evidence = [e for k, e, _ in words if k in found] + evidence
    notes = [Evidence("kind.ignored", f"{e.detail}（信中没有相应的附件、链接或内容，不计）")
             for k, e, _ in seen.words if k not in found]
    if not kinds:
        notes.append(Evidence("kind.unknown", f"{'、'.join(seen.unnamed[:3])} 的名称和来信都看不出"
                                              "是哪类材料，请人工判断") if seen.unnamed else
                     Evidence("kind.question", f"只是提问（“{_clip(seen.question)}”），"
                                               "没有附件或链接 → 不计类型") if seen.question else
                     Evidence("kind.none", "没有送来活动方案、新闻或视频（无相应附件、链接或内容）"))
    return kinds, tuple(evidence + seen.notes + notes)
