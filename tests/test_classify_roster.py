"""The secretariat's roster spreadsheet: read, checked, written, applied to the directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT, run_cli, write_config

from mailbot.classify.directory import DirectoryError, load_directory
from mailbot.classify.roster import RosterRow, read_roster, write_roster
from mailbot.classify.school import identify_school
from mailbot.parse import parse_message

RULES = Path(__file__).resolve().parent.parent / "rules" / "schools.toml"
DIRECTORY = load_directory(RULES)


def xlsx(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("说明").append(["第二张表不读"])
    book.save(path)
    return path


def test_xlsx_rows_and_problems(tmp_path):
    path = xlsx(tmp_path / "名单.xlsx", [
        ["2024年接力行联系人名单"],                                            # 1: title row
        ["学校名称", "所属片区", "联系人", "联系邮箱（多个用分号隔开）"],       # 2: header
        ["成都大学", "成都第二片区", "唐勇", "HQC_cdu@qq.com; 12345678@qq.com"],  # 3
        ["川大", None, "王老师", "a@scu.edu.cn、b@qq.com"],                     # 4: alias
        ["四川大学", "", "李老师", "c@qq.com"],                                # 5: merged with 4
        ["成都理工大学", "成都第五片区", "", "x@qq.com"],                      # 6: bad district
        ["四川大写", "", "", "y@qq.com"],                                      # 7: unknown school
        [None, "川南片区", "张老师", ""],                                      # 8: empty school
        ["宜宾学院", "川南片区", "", "bad-address 88888888"],                  # 9: bad addresses
        ["西华大学", "", "", "hqc_cdu@qq.com 唐勇<tangyong@cdu.edu.cn>"],      # 10: taken
        [None, None, None, None],                                              # 11: blank
    ])
    rows, problems, _ = read_roster(path, DIRECTORY)
    assert rows == [
        RosterRow(3, "成都大学", "成都第二片区", "唐勇", ("hqc_cdu@qq.com", "12345678@qq.com")),
        RosterRow(4, "四川大学", "", "王老师、李老师", ("a@scu.edu.cn", "b@qq.com", "c@qq.com")),
        RosterRow(6, "成都理工大学", "", "", ("x@qq.com",)),
        RosterRow(9, "宜宾学院", "川南片区", "", ()),
        RosterRow(10, "西华大学", "", "", ("tangyong@cdu.edu.cn",)),
    ]
    assert [p.split("：")[0] for p in problems] == ["第6行", "第7行", "第8行", "第9行", "第9行",
                                                   "第10行"]
    assert "片区“成都第五片区”不存在" in problems[0]
    assert "学校“四川大写”不在学校名录中，是否为“四川大学”？" in problems[1]
    assert "学校为空" in problems[2]
    assert "邮箱“bad-address”格式不正确" in problems[3]
    assert "是否为“88888888@qq.com”" in problems[4]
    assert "已登记为 成都大学" in problems[5]


def test_gbk_csv_as_saved_by_chinese_excel(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes("学校,片区,联系人,邮箱\r\n西南石油大学,成都第四片区,何老师,swpu_hq@126.com\r\n"
                     "川农,川西片区,刘丹,hqfw@sicau.edu.cn，liudan@qq.com\r\n".encode("gbk"))
    rows, problems, _ = read_roster(path, DIRECTORY)
    assert problems == []
    assert [(r.line, r.school, r.district, r.addresses) for r in rows] == [
        (2, "西南石油大学", "成都第四片区", ("swpu_hq@126.com",)),
        (3, "四川农业大学", "川西片区", ("hqfw@sicau.edu.cn", "liudan@qq.com")),
    ]


def test_utf8_bom_csv_with_english_header(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("School,District,Contact,Emails\n宜宾学院,川南片区,邓婷,\"a@qq.com; b@163.com\"\n"
                     .encode("utf-8-sig"))
    rows, problems, _ = read_roster(path, DIRECTORY)
    assert problems == []
    assert rows == [RosterRow(2, "宜宾学院", "川南片区", "邓婷", ("a@qq.com", "b@163.com"))]


@pytest.mark.parametrize("name, content, problem", [
    ("no_school.csv", "片区,邮箱\n川南片区,a@qq.com\n".encode(), "第1行：表头中没有“学校”列"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "另存为 .xlsx 或 .csv"),
    ("empty.csv", b"", "文件是空的"),
    ("broken.xlsx", b"not a zip", "第1行：无法读取 broken.xlsx，不是有效的 .xlsx 文件"),
])
def test_unreadable_rosters(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    rows, problems, _ = read_roster(path, DIRECTORY)
    assert rows == [] and len(problems) == 1 and problem in problems[0]


def test_merged_district_cell_belongs_to_every_row_it_spans(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [["2024年各片区联系人名单"], ["序号", "片区", "学校名称", "联系人", "联系人邮箱"],
                [1, "川南片区", "宜宾学院", "张三", "yb@qq.com"], [2, None, "西南医科大学", "李四", ""],
                [3, None, "西华大学", "", ""], [4, "川西片区", "西昌学院", "", ""]]:
        sheet.append(row)
    sheet.merge_cells("A1:E1")
    sheet.merge_cells("B3:B5")
    book.save(tmp_path / "名单.xlsx")
    rows, problems, sheet_name = read_roster(tmp_path / "名单.xlsx", DIRECTORY)
    assert problems == [] and sheet_name == "Sheet"
    assert [(r.school, r.district) for r in rows] == [
        ("宜宾学院", "川南片区"), ("西南医科大学", "川南片区"), ("西华大学", "川南片区"),
        ("西昌学院", "川西片区")]


def test_phone_column_is_not_the_contact_and_exact_header_wins(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_text("学校,联系人电话,联系人职务,联系人,手机,邮箱\n"
                    "宜宾学院,0831-3531234,科长,邓婷,13800000000,a@qq.com\n", encoding="utf-8")
    rows, problems, _ = read_roster(path, DIRECTORY)
    assert problems == []
    assert rows == [RosterRow(2, "宜宾学院", "", "邓婷", ("a@qq.com",))]


def test_row_with_a_conflicting_district_contributes_nothing(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_text("学校,片区,联系人,邮箱\n成都大学,成都第二片区,唐勇,a@cdu.edu.cn\n"
                    "成都大学,成都第一片区,王五,b@qq.com\n西华大学,,,b@qq.com\n", encoding="utf-8")
    rows, problems, _ = read_roster(path, DIRECTORY)
    assert rows == [RosterRow(2, "成都大学", "成都第二片区", "唐勇", ("a@cdu.edu.cn",)),
                    RosterRow(4, "西华大学", "", "", ("b@qq.com",))]
    assert len(problems) == 1 and problems[0].startswith("第3行：成都大学")
    assert "均未导入" in problems[0]


def test_first_sheet_with_a_school_column_is_read_and_named(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["请按下表填写，片区可合并单元格"])
    book.create_sheet("名单").append(["学校", "片区"])
    book["名单"].append(["宜宾学院", "川南片区"])
    book.save(tmp_path / "a.xlsx")
    rows, problems, sheet = read_roster(tmp_path / "a.xlsx", DIRECTORY)
    assert (rows, problems, sheet) == ([RosterRow(2, "宜宾学院", "川南片区", "", ())], [], "名单")
    del book["名单"]
    book.create_sheet("附表").append(["片区", "邮箱"])
    book.save(tmp_path / "b.xlsx")
    rows, problems, sheet = read_roster(tmp_path / "b.xlsx", DIRECTORY)
    assert rows == [] and len(problems) == 1
    assert "表头中没有“学校”列" in problems[0] and "已查看工作表 “说明”、“附表”" in problems[0]


@pytest.fixture
def cli_rules(tmp_path):
    """(config, rules dir) for running `mailbot schools import` on a copy of rules/."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("roster.toml"))
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", extra=f'[rules]\ndir = "{rules}"')
    return cfg, rules


def test_import_says_what_it_replaces_and_which_schools_lack_a_district(tmp_path, cli_rules):
    cfg, rules = cli_rules
    xlsx(tmp_path / "一.xlsx", [["学校", "片区", "邮箱"], ["宜宾学院", "川南片区", "a@qq.com"],
                                ["西华大学", "", "b@qq.com"], ["成都大学", "", ""]])
    out = run_cli("schools", "import", str(tmp_path / "一.xlsx"), config=cfg).stdout
    assert "已导入 3 所学校的名单（工作表“Sheet”）" in out and "已被替换" not in out
    assert "注意：1 所学校没有片区 (no district)：西华大学" in out   # 成都大学 leads its own
    (tmp_path / "二.csv").write_text("学校,片区\n宜宾学院,川南片区\n", encoding="utf-8")
    out = run_cli("schools", "import", str(tmp_path / "二.csv"), config=cfg).stdout
    assert "原名单的 3 条已被替换" in out and "不再包含 2 所：西华大学、成都大学" in out
    assert "西华大学" not in (rules / "roster.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("content", [b"", "片区,邮箱\n川南片区,a@qq.com\n".encode(),
                                     "学校\n火星大学\n".encode()])
def test_import_of_nothing_fails_and_keeps_the_roster(tmp_path, cli_rules, content):
    cfg, rules = cli_rules
    (rules / "roster.toml").write_text("# 原名单\n", encoding="utf-8")
    (tmp_path / "名单.csv").write_bytes(content)
    proc = run_cli("schools", "import", str(tmp_path / "名单.csv"), config=cfg, check=False)
    assert proc.returncode == 1 and "  未采用：第" in proc.stdout
    assert "没有可导入的行 (nothing imported)" in proc.stderr
    assert (rules / "roster.toml").read_text(encoding="utf-8") == "# 原名单\n"


def test_written_roster_extends_the_directory(tmp_path):
    roster = tmp_path / "roster.toml"
    write_roster([RosterRow(2, "宜宾学院", "川南片区", "邓婷 \"小邓\"", ("dt2024@qq.com",)),
                  RosterRow(3, "成都大学", "", "", ("77777@qq.com",))], roster)
    directory = load_directory(RULES, roster)
    yibin = directory.by_name["宜宾学院"]
    assert (yibin.district, yibin.addresses) == ("川南片区", ("dt2024@qq.com",))
    cdu = directory.by_name["成都大学"]
    assert (cdu.district, cdu.addresses) == ("成都第二片区", ("77777@qq.com",))
    msg = parse_message(b"From: <DT2024@qq.com>\r\nSubject: news\r\n\r\nhello\r\n")
    m = identify_school(msg, directory)
    assert (m.school, m.district, m.evidence[0].rule) == ("宜宾学院", "川南片区", "school.address")


@pytest.mark.parametrize("entry, problem", [
    ('school = "不存在大学"\naddresses = []', "不在学校名录中"),
    ('school = "宜宾学院"\ndistrict = "川中片区"', "不存在"),
    ('school = "成都大学"\ndistrict = "川南片区"', "组长单位"),
    (('school = "宜宾学院"\naddresses = ["a@qq.com"]\n[[entry]]\nschool = "西华大学"\n'
      'addresses = ["a@qq.com"]'), "同时属于"),
])
def test_bad_roster_toml_is_refused(tmp_path, entry, problem):
    roster = tmp_path / "roster.toml"
    roster.write_text(f"[[entry]]\n{entry}\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match=problem) as e:
        load_directory(RULES, roster)
    assert all(str(roster) in p for p in e.value.problems), e.value.problems


def test_without_own_rules_the_roster_goes_to_the_data_dir_not_into_mailbots_rules(tmp_path):
    """With the rules shipped with mailbot (no [rules] dir), the imported roster is written
    to the data dir and read from there — never into rules/, which an upgrade replaces —
    and the status table places the school by it."""
    cfg, env = ROOT / "config.example.toml", {"MAILBOT_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data").mkdir()
    (tmp_path / "名单.csv").write_text("学校,片区\n西华大学,成都第四片区\n", encoding="utf-8")
    before = sorted(p.name for p in (ROOT / "rules").iterdir())
    out = run_cli("schools", "import", str(tmp_path / "名单.csv"), config=cfg, env=env).stdout
    assert str(tmp_path / "data" / "roster.toml") in out
    assert sorted(p.name for p in (ROOT / "rules").iterdir()) == before
    status = json.loads(run_cli("status", "--json", config=cfg, env=env).stdout)
    assert [d["district"] for d in status["districts"] if d["school"] == "西华大学"] == ["成都第四片区"]


def test_a_roster_an_earlier_mailbot_wrote_into_its_rules_is_still_read(tmp_path, monkeypatch):
    """Before, the roster went into mailbot's own rules/: it is read from there until an
    import writes the data dir's, so an upgrade loses no school's district or address."""
    import dataclasses

    from mailbot import config
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    cfg = config.load(ROOT / "config.example.toml")
    monkeypatch.setattr(config, "BUNDLED_RULES", shipped)
    cfg = dataclasses.replace(cfg, rules_dir=shipped, storage=dataclasses.replace(
        cfg.storage, data_dir=tmp_path / "data"))
    fresh = tmp_path / "data" / "roster.toml"
    assert config.roster_file(cfg) == fresh == config.roster_file(cfg, writing=True)
    (shipped / "roster.toml").write_text("# 旧名单\n", encoding="utf-8")
    assert config.roster_file(cfg) == shipped / "roster.toml"
    assert config.roster_file(cfg, writing=True) == fresh
    fresh.parent.mkdir()
    fresh.write_text("# 新名单\n", encoding="utf-8")
    assert config.roster_file(cfg) == fresh


def test_a_conflict_is_blamed_on_the_file_that_makes_it(tmp_path):
    """Problems found once the roster is applied used to name both files: one already in
    schools.toml names schools.toml, one the roster brings names roster.toml."""
    schools = tmp_path / "schools.toml"
    schools.write_text(RULES.read_text(encoding="utf-8") + '\n[[school]]\nname = "甲大学"\n'
                       'aliases = ["宜宾学院"]\n', encoding="utf-8")
    roster = tmp_path / "roster.toml"
    roster.write_text('[[entry]]\nschool = "西华大学"\naddresses = ["a@qq.com"]\n'
                      '[[entry]]\nschool = "成都大学"\naddresses = ["a@qq.com"]\n',
                      encoding="utf-8")
    with pytest.raises(DirectoryError) as e:
        load_directory(schools, roster)
    by_file = {p.split(": ", 1)[0]: p for p in e.value.problems}
    assert set(by_file) == {str(schools), str(roster)}, e.value.problems
    assert "宜宾学院" in by_file[str(schools)] and "a@qq.com" in by_file[str(roster)]
    with pytest.raises(DirectoryError) as alone:
        load_directory(schools)
    assert [p.split(": ", 1)[0] for p in alone.value.problems] == [str(schools)]


def test_an_entry_written_as_a_single_table_is_one_clear_error(tmp_path):
    roster = tmp_path / "roster.toml"
    roster.write_text('[entry]\nschool = "宜宾学院"\naddresses = ["a@qq.com"]\n', encoding="utf-8")
    with pytest.raises(DirectoryError, match=r"\[\[entry\]\] 表数组"):
        load_directory(RULES, roster)


def test_a_lead_school_column_is_not_the_schools(tmp_path):
    """A district sheet "片区 | 组长单位 | 成员学校 | 联系人 | 邮箱": each row is its member
    school's, not the lead school's (whose name "单位" also holds)."""
    path = xlsx(tmp_path / "片区名单.xlsx", [
        ["片区", "组长单位", "成员学校", "联系人", "邮箱"],
        ["川南片区", "四川轻化工大学", "宜宾学院", "张老师", "yb_hq@qq.com"],
        ["川南片区", "四川轻化工大学", "西南医科大学", "李老师", "swmu_hq@163.com"],
    ])
    rows, problems, _ = read_roster(path, DIRECTORY)
    assert problems == [] and [(r.school, r.addresses) for r in rows] == [
        ("宜宾学院", ("yb_hq@qq.com",)), ("西南医科大学", ("swmu_hq@163.com",))]
