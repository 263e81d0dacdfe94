"""The secretariat's roster: which school is in which district, and its contact addresses.

:func:`read_roster` reads a spreadsheet the secretariat keeps (.xlsx: the first
sheet with a 学校 column, merged cells filled over their range; or .csv saved by
Excel: UTF-8 with BOM, or GBK/GB18030 as Chinese Excel writes it) and checks
every row against the school directory;
:func:`write_roster` turns the good rows into ``rules/roster.toml``, which
:func:`mailbot.classify.directory.load_directory` applies on top of
``rules/schools.toml``.  No database, no network.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import re
import tomllib
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .directory import Directory, School, load_directory
from .school import find_school_by_name

# Column headers accepted (lower-cased, blanks, "*" and bracketed notes removed);
# a header containing one of these words counts.  Checked in this order, so that
# "联系人邮箱" is the e-mail column and "学校联系人" the contact column.  A phone column is
# recognised only so that "联系人电话" is not taken for the contact (roster.toml keeps no phone),
# a lead school's only so that "组长单位" is not taken for the school.
COLUMNS = {
    "lead": ("组长", "牵头"),  # "组长单位": the district's lead school, never the row's school
    "email": ("邮箱", "邮件", "email", "e-mail", "mail"),
    "phone": ("电话", "手机", "phone", "tel", "mobile"),
    "district": ("片区", "district"),
    "contact": ("联系人", "姓名", "contact"),
    "school": ("学校", "院校", "单位", "school", "name"),
}
_SPLIT = re.compile(r"[;,、；，\s]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_NAME = re.compile(r"[\u3400-\u9fff·]{2,8}")  # a person's name written beside an address
_HEADER_NOISE = re.compile(r"[\s*:：]|[（(【\[].*?[)）】\]]")


@dataclass(frozen=True)
class RosterRow:
    """One school's roster data; ``line`` is the first spreadsheet row it came from,
    ``school`` the official name, ``district`` "" when not given."""

    line: int
    school: str
    district: str
    contact: str
    addresses: tuple[str, ...]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _unmerged(sheet) -> list[list[str]]:
    """The rows of an openpyxl *sheet* as text, a merged range's value in each of its cells
    (a 片区 cell merged over several school rows belongs to every one of them)."""
    rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    for cells in sheet.merged_cells.ranges:
        value = rows[cells.min_row - 1][cells.min_col - 1]
        for r in range(cells.min_row - 1, min(cells.max_row, len(rows))):
            for c in range(cells.min_col - 1, min(cells.max_col, len(rows[r]))):
                rows[r][c] = value
    return rows


def _sheets(path: Path) -> list[tuple[str, list[list[str]]]]:
    """(sheet name, rows as text) for every sheet, or ("", rows) for a CSV file; raises
    ValueError for other types and unreadable workbooks."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl  # only needed here
        from openpyxl.utils.exceptions import InvalidFileException

        try:  # not read_only: read-only mode does not expose merged ranges
            book = openpyxl.load_workbook(path, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as e:
            raise ValueError(f"无法读取 {path.name}，不是有效的 .xlsx 文件 ({e})") from e
        try:
            return [(sheet.title, _unmerged(sheet)) for sheet in book.worksheets]
        finally:
            book.close()
    if suffix in (".csv", ".txt"):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030", errors="replace")
        first = text.split("\n", 1)[0]
        delimiter = "\t" if "\t" in first and "," not in first else ","
        rows = csv.reader(io.StringIO(text), delimiter=delimiter)
        return [("", [[_cell(v) for v in row] for row in rows])]
    raise ValueError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请在 Excel 中另存为 .xlsx 或 .csv")


def _columns(header: list[str]) -> dict[str, int]:
    """Column index per COLUMNS key; the first match, unless a later header is exactly
    one of the key's words ("联系人" wins over "联系人职务")."""
    found: dict[str, tuple[bool, int]] = {}
    for col, text in enumerate(header):
        text = _HEADER_NOISE.sub("", text).lower()
        key = next((k for k, words in COLUMNS.items() if any(w in text for w in words)), None)
        exact = key is not None and text in COLUMNS[key]
        if key and text and (key not in found or exact and not found[key][0]):
            found[key] = (exact, col)
    return {k: col for k, (_, col) in found.items()}


def _header(numbered: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int]] | None:
    """(index in *numbered*, columns) of the header: the first of the top rows with a 学校
    column and another known column (a title row such as "2024年联系人名单" may stand
    above it); None without a 学校 column."""
    heads = [(i, _columns(row)) for i, (_, row) in enumerate(numbered[:5])]
    heads = [h for h in heads if "school" in h[1]]
    return next((h for h in heads if len(h[1]) > 1), heads[0]) if heads else None


def _addresses(n: int, cell: str, school: str, owner: dict[str, str],
               problems: list[str]) -> list[str]:
    """The addresses of row *n*'s e-mail *cell* for *school*, each claimed in *owner*
    (address → school); bad ones and those of another school go to *problems*."""
    # leftovers that are not addresses: a name beside the address ("唐勇 <a@b.cn>") is
    # fine, anything else is reported
    for bad in _SPLIT.split(_EMAIL.sub(" ", cell.replace("mailto:", ""))):
        bad = bad.strip("<>()[]【】\"'")
        if bad and not _NAME.fullmatch(bad):
            hint = f"，是否为“{bad}@qq.com”？" if bad.isdigit() and 5 <= len(bad) <= 11 else ""
            problems.append(f"第{n}行：邮箱“{bad}”格式不正确{hint}")
    addresses = []
    for addr in (a.lower() for a in _EMAIL.findall(cell)):
        if owner.setdefault(addr, school) != school:
            problems.append(f"第{n}行：邮箱 {addr} 已登记为 {owner[addr]}，不能再登记为 {school}")
        else:
            addresses.append(addr)
    return addresses


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.4)
    return f"，是否为“{close[0]}”？" if close else ""


def _table(path: Path) -> tuple[str, list[tuple[int, list[str]]], int, dict[str, int]]:
    """(sheet name, non-blank rows numbered from 1, header index, columns) of the first
    sheet with a 学校 column; raises ValueError "第N行：原因" when there is none."""
    try:
        sheets = _sheets(path)
    except ValueError as e:
        raise ValueError(f"第1行：{e}") from e
    tables = [(name, [(n, row) for n, row in enumerate(rows, 1) if any(row)])
              for name, rows in sheets]
    tables = [(name, numbered) for name, numbered in tables if numbered]
    if not tables:
        raise ValueError("第1行：文件是空的")
    for name, numbered in tables:
        if head := _header(numbered):
            return name, numbered, *head
    looked = "、".join(f"“{name}”" for name, _ in sheets if name)
    raise ValueError(f"第{tables[0][1][0][0]}行：表头中没有“学校”列（可用列名：学校、片区、联系人、邮箱）"
                     + (f"；已查看工作表 {looked} (no sheet has a school column)" if looked else ""))


def read_roster(path: Path, directory: Directory | None = None
                ) -> tuple[list[RosterRow], list[str], str]:
    """Read the roster at *path* (.xlsx: the first sheet with a 学校 column, merged
    cells filled over their range; or .csv; with a header row: 学校/school
    required; 片区/district, 联系人/contact, 邮箱/email optional; several
    addresses per cell separated by ; , 、 or blanks).

    Returns (rows, problems, sheet name or "" for CSV).  Each problem reads
    "第N行：原因" (N = row of that sheet): unknown school (closest name
    suggested), unknown district, bad address, empty school, an address already
    given to another school, two districts for one school.  Rows of unknown
    schools, and a school's later rows with another district, are left out
    whole; a bad district or address is left out of its row.  Rows of the same
    school are merged.  *directory* (default: the bundled ``rules/schools.toml``) should be
    loaded without the roster.toml this import replaces, so that addresses
    moving between schools are not reported as taken.
    """
    if directory is None:
        directory = load_directory(Path(__file__).resolve().parents[2] / "rules" / "schools.toml")
    try:
        sheet, numbered, start, cols = _table(Path(path))
    except ValueError as e:
        return [], [str(e)], ""
    names = sorted({s.name for s in directory.schools})
    owner = {a: s.name for s in directory.schools for a in s.addresses}
    merged: dict[str, RosterRow] = {}
    problems: list[str] = []
    for n, row in numbered[start + 1:]:
        get = {k: (row[c] if c < len(row) else "") for k, c in cols.items()}
        if not get["school"]:
            problems.append(f"第{n}行：学校为空")
            continue
        school = find_school_by_name(get["school"], directory)
        if school is None:
            problems.append(f"第{n}行：学校“{get['school']}”不在学校名录中"
                            f"{_suggest(get['school'], names)}")
            continue
        district = get.get("district", "")
        if district and district not in directory.districts:
            problems.append(f"第{n}行：片区“{district}”不存在"
                            f"{_suggest(district, list(directory.districts))}"
                            f"（可选：{'、'.join(directory.districts)}）")
            district = ""
        old = merged.get(school.name)
        if old and district and old.district and district != old.district:
            problems.append(f"第{n}行：{school.name} 在第{old.line}行已填片区“{old.district}”，"
                            f"此处又填“{district}”，此行的联系人和邮箱均未导入")
            continue
        addresses = _addresses(n, get.get("email", ""), school.name, owner, problems)
        if old:
            contact = "、".join(dict.fromkeys(c for c in (old.contact, get.get("contact", "")) if c))
            merged[school.name] = RosterRow(
                old.line, school.name, old.district or district, contact,
                tuple(dict.fromkeys(old.addresses + tuple(addresses))))
        else:
            merged[school.name] = RosterRow(n, school.name, district, get.get("contact", ""),
                                            tuple(dict.fromkeys(addresses)))
    return list(merged.values()), problems, sheet


def missing_districts(rows: list[RosterRow], directory: Directory) -> list[str]:
    """The schools of *rows* left without a district: none in the roster, none in *directory*."""
    return [r.school for r in rows
            if not r.district and not getattr(directory.by_name.get(r.school), "district", "")]


def replaced_entries(path: Path, rows: list[RosterRow],
                     directory: Directory) -> tuple[int, list[str]]:
    """(number of [[entry]] in the existing roster.toml at *path*, its schools absent from
    *rows*); (0, []) when there is no readable file."""
    try:
        entries = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("entry", [])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return 0, []
    names = [str(e.get("school", "")) for e in entries if isinstance(e, dict)]
    new = {r.school for r in rows}
    gone = [n for n in names if getattr(find_school_by_name(n, directory), "name", n) not in new]
    return len(names), list(dict.fromkeys(gone))


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON strings are valid TOML basic strings


def write_roster(rows: list[RosterRow], path: Path) -> None:
    """Write *rows* as ``roster.toml`` ([[entry]] school, district, contact,
    addresses), replacing the file atomically."""
    out = ["# 名单 (roster)：由名单导入功能根据秘书处的表格生成，也可直接编辑。",
           "# 每个 [[entry]]：school 学校全称；district 片区（填写时覆盖 schools.toml 中的片区，",
           "# 空 = 不改变）；contact 联系人；addresses 该校确认的发件地址（追加到 schools.toml 中的地址）。",
           ""]
    for r in rows:
        out += ["[[entry]]", f"school = {_q(r.school)}", f"district = {_q(r.district)}",
                f"contact = {_q(r.contact)}",
                f"addresses = [{', '.join(_q(a) for a in r.addresses)}]", ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # the data dir of a fresh install
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(out), encoding="utf-8")
    os.replace(tmp, path)


def apply_roster(schools: dict[str, School], data: dict) -> list[str]:
    """Apply parsed ``roster.toml`` *data* to *schools* (official name → School),
    in place: an entry's ``district`` replaces the school's when not empty, its
    ``addresses`` are added.  The school may be named by name, alias or former
    name.  Returns the problems (unknown school, addresses not a list of strings)."""
    def norm(text: object) -> str:
        return unicodedata.normalize("NFKC", str(text)).strip()

    names = {norm(n): s.name for s in schools.values()
             for n in (s.name, *s.aliases, *s.former_names)}
    problems = []
    entries = data.get("entry", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return ["entry 应写成 [[entry]] 表数组，每所学校一个 (expected an array of tables)"]
    for i, entry in enumerate(entries, 1):
        where = f"第 {i} 个 [[entry]]"
        school = schools.get(names.get(norm(entry.get("school", "")), ""))
        adds = entry.get("addresses", [])
        if school is None:
            problems.append(f"{where}：学校“{entry.get('school', '')}”不在学校名录中")
        elif not isinstance(adds, list) or not all(isinstance(a, str) for a in adds):
            problems.append(f"{where}：addresses 应为字符串列表")
        else:
            adds = tuple(a.strip().lower() for a in adds if a.strip())
            schools[school.name] = School(
                school.name, school.aliases, school.former_names, school.domains,
                str(entry.get("district", "")).strip() or school.district,
                tuple(dict.fromkeys(school.addresses + adds)))
    return problems
