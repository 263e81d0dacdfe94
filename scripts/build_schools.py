#!/usr/bin/env python3
"""Generate rules/schools.toml once from the shared directory of Sichuan institutions.

    .venv/bin/python scripts/build_schools.py [--source FILE] [--config FILE] [--out FILE]

The output is DATA the secretariat edits by hand afterwards (aliases, domains,
districts, confirmed addresses), so this script is run once, not on every
build; it refuses to overwrite an existing file unless --force is given.

What it does with the source (/work/shared/data/sichuan_schools.toml):
  * every [[school]] and [[adult_school]] becomes one [[school]];
  * aliases = the source's aliases + EXTRA_ALIASES (short forms people write),
    minus DROPPED_ALIASES (common words that would give false positives);
  * domains = domains + legacy_domains, minus subdomains of another domain of
    the same school (subdomains match anyway); unverified domains get a comment;
  * district = the source's certain ``district`` (the 8 lead schools) only;
    ``district_guess`` is kept for information, never used for routing;
  * the [[district]] tables (name + lead_school) come from config.example.toml.
Names, aliases and domains must be unique across schools; the script stops
with a list of collisions otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/work/shared/data/sichuan_schools.toml")

# Short forms people actually write in subjects, signatures and display names.
EXTRA_ALIASES = {
    "四川师范大学": ["四川师大"],
    "四川农业大学": ["四川农大"],
    "成都工业学院": ["成工", "成工院"],
    "成都中医药大学": ["成都中医药"],
    "四川轻化工大学": ["四川轻化工", "轻化工大学"],
    "西南医科大学": ["西南医大"],
    "四川职业技术学院": ["四川职院"],
}
# Source aliases that are ordinary words or place names in Chinese text.
DROPPED_ALIASES = {
    "成都锦城学院": {"锦城": "“锦城”是成都的别称"},
    "四川国际标榜职业学院": {"标榜": "“标榜”是常用词"},
}

PUBLIC_DOMAINS = {  # group comment -> domains
    "腾讯": ["qq.com", "vip.qq.com", "foxmail.com"],
    "网易": ["163.com", "126.com", "yeah.net", "vip.163.com", "vip.126.com", "188.com"],
    "新浪、搜狐、阿里等": ["sina.com", "sina.cn", "vip.sina.com", "sohu.com", "aliyun.com",
                     "china.com", "21cn.com", "tom.com"],
    "运营商": ["139.com", "189.cn", "wo.cn"],
    "国外": ["gmail.com", "outlook.com", "hotmail.com", "live.com", "live.cn", "msn.com",
           "icloud.com", "me.com", "yahoo.com", "yahoo.com.cn"],
}

HEADER = """\
# 学校名录 (school directory) —— mailbot 识别来信学校、确定片区所用的数据
#
# 本文件由 scripts/build_schools.py 根据四川高校名录一次性生成，此后由秘书处直接编辑。
# 修改后无需重启以外的任何操作；文件有误时 mailbot 启动会报错并指出位置。
#
# 识别顺序（先命中者为准，其余线索作为“未采用的线索”记录）：
#   1. 已确认的发件地址（数据库中已确认的地址，以及下面各校的 addresses）
#   2. 发件人域名（含子域名，如 mail.scu.edu.cn 属于 scu.edu.cn；不使用 public_domains 中的公共邮箱）
#   3. 署名、主题、附件名、发件人名称、正文中出现的校名、简称或曾用名
#   4. 片区组长单位转发的邮件：以原发件学校为准
#
# 常见修改 (how to edit)：
#   * 增加简称：在该校 aliases 中加入，如 aliases = ["川大", "SCU"]。
#       两三个字的简称只在前面不是汉字（或是“与、和、赴”等连接字）时才算数，
#       以免“四川大型活动”被认成“川大”；英文缩写区分大小写。
#       同一个名称不能同时属于两所学校。
#   * 增加域名：在 domains 中加入，如 domains = ["scu.edu.cn"]；子域名自动包括，不必逐个列出。
#       QQ、163 等公共邮箱不能作为学校域名。
#   * 指定片区：district = "川南片区"。片区名称必须与下方 [[district]] 以及
#       config.toml 中 [[districts]] 的 name 完全一致；不填 ("") 表示未分派片区。
#       district_guess 只是按地理位置推测的参考，不参与分派。
#   * 登记联系地址：学校用个人邮箱（如 QQ 邮箱）报送时，把地址加入 addresses，
#       如 addresses = ["12345678@qq.com"]；以后该地址的来信直接认定为该校。
#       （也可用名单导入功能维护，见 rules/roster.toml。）
#   * 学校更名：把旧名加入 former_names，name 改为新名。
#
# 字段：name 正式全称；aliases 简称；former_names 曾用名；domains 邮箱/网站域名；
#       district 片区；district_guess 片区参考；city 所在市州；addresses 已确认的发件地址；
#       note 备注（可选，程序不读取）。
"""


def q(value: str) -> str:
    """A TOML basic string (JSON string syntax is a subset of it)."""
    return json.dumps(value, ensure_ascii=False)


def qlist(values) -> str:
    return "[" + ", ".join(q(v) for v in values) + "]"


def merged_domains(entry: dict) -> tuple[list[str], list[str]]:
    """Current + legacy domains, lower-cased, without redundant subdomains; and the legacy ones."""
    current = [d.strip().lower() for d in entry.get("domains") or []]
    legacy = [d.strip().lower() for d in entry.get("legacy_domains") or []]
    every = list(dict.fromkeys(current + legacy))
    keep = [d for d in every if not any(d.endswith("." + other) for other in every)]
    return keep, [d for d in legacy if d in keep]


def school_block(entry: dict, adult: bool, lead_district: str) -> list[str]:
    name = entry["name"].strip()
    dropped = DROPPED_ALIASES.get(name, {})
    aliases = [a for a in entry.get("aliases") or [] if a not in dropped]
    aliases = list(dict.fromkeys(aliases + EXTRA_ALIASES.get(name, [])))
    domains, legacy = merged_domains(entry)
    district = (entry.get("district") or "").strip()
    if district and district != lead_district:
        raise SystemExit(f"{name}: source district {district!r} != config {lead_district!r}")
    district = district or lead_district
    lines = ["", "[[school]]"]
    if adult:
        lines.append("# 成人高校")
    if district:
        lines.append(f"# {district}组长单位")
    lines.append(f"name = {q(name)}")
    lines.append(f"aliases = {qlist(aliases)}")
    for alias, why in dropped.items():
        lines.append(f"# 未收录简称“{alias}”：{why}，容易误判")
    lines.append(f"former_names = {qlist(entry.get('former_names') or [])}")
    if domains and not entry.get("verified", False):
        lines.append("# 以下域名仅来自自动搜集，未经核实")
    if legacy:
        lines.append(f"# 旧域名：{'、'.join(legacy)}")
    lines.append(f"domains = {qlist(domains)}")
    lines.append(f"district = {q(district)}")
    guess = (entry.get("district_guess") or "").strip()
    if guess and not district:
        lines.append(f"district_guess = {q(guess)}   # 仅供参考，不参与分派")
    if entry.get("city"):
        lines.append(f"city = {q(entry['city'])}")
    lines.append("addresses = []")
    return lines


def build(source: dict, config: dict) -> str:
    districts = [(d["name"], d["lead_school"]) for d in config["districts"]]
    lead_of = {school: name for name, school in districts}
    entries = [(e, False) for e in source.get("school", [])]
    entries += [(e, True) for e in source.get("adult_school", [])]
    names = {e["name"].strip() for e, _ in entries}
    if missing := sorted(set(lead_of) - names):
        raise SystemExit(f"lead schools missing from the source: {missing}")

    owner: dict[str, str] = {}
    clashes: list[str] = []
    out = [HEADER]
    out.append("# 公共邮箱域名：这些域名的来信不能凭域名判断学校（可按需增加）。")
    out.append("public_domains = [")
    for group, domains in PUBLIC_DOMAINS.items():
        out.append(f"    {', '.join(q(d) for d in domains)},   # {group}")
    out.append("]")
    out.append("")
    out.append("# 8 个片区及组长单位（须与 config.toml 的 [[districts]] 一致）。")
    for name, lead in districts:
        out += ["", "[[district]]", f"name = {q(name)}", f"lead_school = {q(lead)}"]
    out += ["", "", "# ---- 学校 ----"]
    for entry, adult in entries:
        block = school_block(entry, adult, lead_of.get(entry["name"].strip(), ""))
        parsed = tomllib.loads("\n".join(block[1:]).replace("[[school]]", ""))
        keys = [parsed["name"], *parsed["aliases"], *parsed["former_names"]]
        keys += [f"@{d}" for d in parsed["domains"]]
        for key in keys:
            if owner.setdefault(key, parsed["name"]) != parsed["name"]:
                clashes.append(f"{key!r}: {owner[key]} / {parsed['name']}")
            if key.startswith("@") and any(key[1:] in d for d in PUBLIC_DOMAINS.values()):
                clashes.append(f"{key!r} of {parsed['name']} is a public domain")
        out += block
    if clashes:
        raise SystemExit("collisions:\n  " + "\n  ".join(clashes))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--config", type=Path, default=ROOT / "config.example.toml")
    ap.add_argument("--out", type=Path, default=ROOT / "rules" / "schools.toml")
    ap.add_argument("--force", action="store_true", help="overwrite an existing output file")
    args = ap.parse_args(argv)
    if args.out.exists() and not args.force:
        print(f"{args.out} exists (edited by the secretariat?); use --force", file=sys.stderr)
        return 1
    source = tomllib.loads(args.source.read_text(encoding="utf-8"))
    config = tomllib.loads(args.config.read_text(encoding="utf-8"))
    text = build(source, config)
    tomllib.loads(text)  # must parse
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    data = tomllib.loads(text)
    schools = data["school"]
    print(f"wrote {args.out}: {len(schools)} schools, "
          f"{sum(1 for s in schools if s['domains'])} with domains, "
          f"{sum(1 for s in schools if s['district'])} with a district")
    return 0


if __name__ == "__main__":
    sys.exit(main())
