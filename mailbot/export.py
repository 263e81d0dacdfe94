"""``mailbot export``: everything received, as a workbook or as a zip of files.

The zip is arranged 片区/学校/类别/文件名 (mail whose school is not known yet under
待确认学校/编号 发件人/) with a ``manifest.csv`` (UTF-8 with BOM, so Excel opens it)
listing every file and link with where it came from.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .digest import UNASSIGNED
from .filing import safe_filename
from .report import KIND_ZH

MANIFEST_HEAD = ("片区", "学校", "类别", "主题", "发件人", "收到时间", "文件", "大小", "sha256",
                 "链接", "编号")


NEEDS_SCHOOL = "待确认学校"


def _folder(r: dict) -> str:
    kinds = "+".join(KIND_ZH.get(k, k) for k in r["kinds"]) or "其他"
    if r["status"] == "needs_school":
        return "/".join(safe_filename(x) for x in (NEEDS_SCHOOL, f"{r['id']} {r['sender'] or ''}"))
    return "/".join(safe_filename(x) for x in (r["district"] or UNASSIGNED, r["school"], kinds))


def _place(r: dict, folder: str) -> tuple[str, str, str]:
    """The manifest's 片区, 学校, 类别 of row *r* filed under *folder*."""
    kinds = "+".join(KIND_ZH.get(k, k) for k in r["kinds"]) or "其他"
    if r["status"] == "needs_school":
        return "", NEEDS_SCHOOL, kinds
    return r["district"] or UNASSIGNED, r["school"], folder.split("/")[-1]


def export_zip(rows: Sequence[dict], read: Callable[[str], bytes], target: Path,
               missing: list[str] | None = None) -> int:
    """Write the files of the accepted submissions, and of those whose school is still to
    be confirmed, into *target*; return how many files.

    A file removed under ``[retention]`` is listed in the manifest, not zipped; one missing
    from the store otherwise is listed as missing and its name added to *missing*."""
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_HEAD)
    used: set[str] = set()
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for r in rows:
            if r["status"] not in ("accepted", "needs_school"):
                continue
            links = " ".join(ln["url"] for ln in r["links"])
            folder = _folder(r)
            for a in r["attachments"]:
                name = safe_filename(a["filename"] or f"附件{a['sha256'][:8]}")
                path, n = f"{folder}/{name}", 1
                while path in used:
                    stem, dot, ext = name.rpartition(".")
                    path = f"{folder}/{stem or ext}({n}){dot}{ext if stem else ''}"
                    n += 1
                try:
                    z.writestr(path, read(a["path"]))
                    count += 1
                    used.add(path)
                except FileNotFoundError:  # listed, not zipped
                    if r.get("files_removed_at"):
                        path = f"（已按保留期限删除）{name}"
                    else:
                        path = f"（文件缺失）{name}"
                        if missing is not None:
                            missing.append(f"#{r['id']} {name}")
                writer.writerow((*_place(r, folder), r["subject"], r["sender"], r["received_at"],
                                 path, a["size"], a["sha256"], links, r["id"]))
            if not r["attachments"]:
                writer.writerow((*_place(r, folder), r["subject"], r["sender"], r["received_at"],
                                 "", "", "", links, r["id"]))
        z.writestr("manifest.csv", "\ufeff" + manifest.getvalue())
    return count
