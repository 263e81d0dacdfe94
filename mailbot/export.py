"""``mailbot export``: everything received, as a workbook or as a zip of files.

The zip is arranged 片区/学校/类别/文件名 with a ``manifest.csv`` (UTF-8 with BOM,
so Excel opens it) listing every file and link with where it came from.
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


def _folder(r: dict) -> str:
    kinds = "+".join(KIND_ZH.get(k, k) for k in r["kinds"]) or "其他"
    return "/".join(safe_filename(x) for x in (r["district"] or UNASSIGNED, r["school"], kinds))


def export_zip(rows: Sequence[dict], read: Callable[[str], bytes], target: Path) -> int:
    """Write the accepted submissions' files into *target*; return how many files.

    A file removed under ``[retention]`` is listed in the manifest, not zipped."""
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_HEAD)
    used: set[str] = set()
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for r in rows:
            if r["status"] != "accepted":
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
                except FileNotFoundError:  # removed under [retention]: listed, not zipped
                    path = f"（已按保留期限删除）{name}"
                writer.writerow((r["district"] or UNASSIGNED, r["school"], folder.split("/")[-1],
                                 r["subject"], r["sender"], r["received_at"], path, a["size"],
                                 a["sha256"], links, r["id"]))
            if not r["attachments"]:
                writer.writerow((r["district"] or UNASSIGNED, r["school"], folder.split("/")[-1],
                                 r["subject"], r["sender"], r["received_at"], "", "", "", links,
                                 r["id"]))
        z.writestr("manifest.csv", "\ufeff" + manifest.getvalue())
    return count
