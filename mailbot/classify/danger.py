"""Dangerous attachments: executables, scripts, disguised names, zips holding them.

Pure: the attachment bytes are inspected in memory (zip member names and
first bytes), nothing is written or run.  What counts as dangerous is data
(``rules/danger.toml``, read by :func:`load_danger_rules`).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import read_toml
from ..errors import ConfigError
from ..parse import Attachment, ParsedMessage
from .evidence import Evidence

# Bidirectional controls make "方案\u202excod.exe" show as "方案exe.docx".
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_MAX_NESTED_BYTES = 20 * 1024 * 1024  # a zip inside a zip is opened up to this size


@dataclass(frozen=True)
class DangerRules:
    """Dangerous extensions (".exe") and content types, encrypted (unreadable)
    content types and extensions, and which archives are opened."""

    extensions: frozenset[str]
    content_types: frozenset[str]
    inspect_archives: frozenset[str]
    max_members: int = 2000
    unreadable_content_types: frozenset[str] = frozenset()
    unreadable_extensions: frozenset[str] = frozenset()


def load_danger_rules(path: Path) -> DangerRules:
    """Read ``rules/danger.toml``; raises ConfigError naming every problem."""
    data = read_toml(path)
    problems, lists = [], {}
    for key in ("extensions", "content_types", "inspect_archives", "unreadable_content_types",
                "unreadable_extensions"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.append(f"{path}: {key}: 应为字符串列表 (must be a list of strings)")
            value = []
        lists[key] = frozenset(v.strip().lower() for v in value)
    for key in ("extensions", "inspect_archives", "unreadable_extensions"):
        if bad := sorted(v for v in lists[key] if not v.startswith(".")):
            problems.append(f"{path}: {key}: 扩展名须以“.”开头 (must start with '.'): {bad}")
    max_members = data.get("max_members", 2000)
    if not isinstance(max_members, int) or isinstance(max_members, bool) or max_members < 1:
        problems.append(f"{path}: max_members: 应为正整数 (must be a positive integer)")
    if unknown := sorted(set(data) - {*lists, "max_members"}):
        problems.append(f"{path}: 未知的设置 (unknown keys): {unknown}")
    if problems:
        raise ConfigError(problems)
    return DangerRules(lists["extensions"], lists["content_types"], lists["inspect_archives"],
                       max_members, lists["unreadable_content_types"],
                       lists["unreadable_extensions"])


def shown(name: str) -> str:
    """``name`` safe to print: bidirectional controls made visible as <U+202E>."""
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", name)


def real_extension(name: str) -> str:
    """The extension Windows would act on: lower case, full-width folded, bidi
    controls removed, trailing spaces and dots ignored ("新闻.pdf .scr" → ".scr")."""
    name = _BIDI.sub("", unicodedata.normalize("NFKC", name)).strip().rstrip(". ").lower()
    base = re.split(r"[\\/]", name)[-1]
    return "." + re.sub(r"\s+", "", base.rsplit(".", 1)[1]) if "." in base else ""


def _name_reason(name: str, rules: DangerRules) -> str | None:
    """Why a file called ``name`` is dangerous, or None."""
    ext = real_extension(name)
    if _BIDI.search(name):
        return f"文件名含反向显示控制字符，可伪装扩展名（实为 {ext or '无扩展名'}）"
    if ext in rules.extensions:
        return f"是可执行文件或脚本（{ext}）"
    return None


def _content_reason(head: bytes) -> str | None:
    if head[:2] == b"MZ":
        return "内容是 Windows 可执行程序（MZ 文件头）"
    return None


def _zip_reasons(data: bytes, rules: DangerRules, depth: int = 0) -> Iterator[str]:
    """Reasons for the dangerous members of zip ``data`` (one nested zip level)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist()[:rules.max_members]:
                if info.is_dir():
                    continue
                name = info.filename
                if why := _name_reason(name, rules):
                    yield f"内含 {shown(name)}，{why}"
                    continue
                if info.flag_bits & 1:  # encrypted: only the name can be seen
                    continue
                with z.open(info) as member:
                    head = member.read(4)
                if why := _content_reason(head):
                    yield f"内含 {shown(name)}，{why}"
                elif (head[:4] == b"PK\x03\x04" and depth == 0
                      and info.file_size <= _MAX_NESTED_BYTES):
                    inner = z.read(info)
                    yield from (f"内含压缩包 {shown(name)}，{w}"
                                for w in _zip_reasons(inner, rules, depth + 1))
    except Exception:  # noqa: BLE001 - BadZipFile, zlib.error, lzma.LZMAError, struct.error...
        return  # unreadable zip: nothing more to see


def attachment_reasons(att: Attachment, rules: DangerRules) -> list[str]:
    """Why ``att`` is dangerous ([] when it is not)."""
    reasons = []
    if why := _name_reason(att.filename, rules):
        reasons.append(why)
    elif att.content_type in rules.content_types:
        reasons.append(f"内容类型为可执行文件（{att.content_type}）")
    elif why := _content_reason(att.payload[:4]):
        reasons.append(why)
    ext = real_extension(att.filename)
    if att.payload.startswith(b"PK\x03\x04") or ext in rules.inspect_archives:
        first = list(_zip_reasons(att.payload, rules))
        reasons += [f"压缩包{w}" for w in first[:3]]
        if len(first) > 3:
            reasons.append(f"压缩包内另有 {len(first) - 3} 个危险文件")
    return reasons


def dangerous_attachments(msg: ParsedMessage, rules: DangerRules) -> tuple[Evidence, ...]:
    """One ``Evidence("danger.executable", …)`` per dangerous attachment of
    ``msg`` and of the messages forwarded inside it, one
    ``Evidence("danger.unreadable", …)`` per encrypted part (S/MIME, PGP)
    that cannot be checked; () when all are safe.

    Dangerous: an extension in the rules (after the tricks Windows honours:
    trailing dots/spaces, "方案.docx.exe"), a bidirectional control in the
    name, Windows executable content (MZ) under any name, a zip (or any
    PK file) holding any of those.  rar/7z cannot be opened: not dangerous
    by themselves.
    """
    return tuple(_walk(msg, rules, ""))


def _walk(msg: ParsedMessage, rules: DangerRules, where: str) -> Iterator[Evidence]:
    for att in msg.attachments:
        label = shown(att.filename) or f"（无文件名，{att.content_type}）"
        if reasons := attachment_reasons(att, rules):
            yield Evidence("danger.executable", f"{where}附件 {label} {'；'.join(reasons)}")
        elif att.content_type in rules.unreadable_content_types or \
                real_extension(att.filename) in rules.unreadable_extensions:
            yield Evidence("danger.unreadable", f"{where}附件 {label} 是加密的邮件内容"
                                                f"（{att.content_type}），无法检查")
    for inner in msg.forwarded:
        yield from _walk(inner, rules, f"{where}转发邮件中的")
