"""jinja2 rendering: templates looked up by stable names, site overrides first.

Names are like ``receipt/receipt.txt`` and ``receipt/receipt.html``; a file of
the same name in the configured override folder wins over the bundled one in
``templates/``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def human_size(size: int) -> str:
    """1536 -> "1.5 KB"; sizes as people read them."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


_OFFICES = ("处", "部", "科", "室", "中心", "办公室", "大学", "学院", "学校", "委", "党支部", "支部",
            "集团", "公司", "后勤", "秘书处")


def addressee(name: str | None) -> str:
    """How a letter greets *name*: "王文娟" -> "王文娟老师"; an account name or nothing
    ("swpu_hq", "hq") or an office's ("成都大学后勤处") -> "老师"; a name already ending in
    老师 stays as it is."""
    name = (name or "").strip()
    if not any("\u4e00" <= ch <= "\u9fff" for ch in name) or name.endswith(_OFFICES):
        return "老师"  # an account, or an office ("成都大学后勤处", "宣传科")
    return name if name.endswith(("老师", "同志", "主任", "书记", "处长", "部长")) else name + "老师"


@lru_cache(maxsize=8)
def environment(override: str = "") -> Environment:
    """The template environment: *override* folder (if any) before the bundled templates."""
    folders = [override] if override else []
    env = Environment(loader=ChoiceLoader([FileSystemLoader(f) for f in
                                           [*folders, str(BUNDLED_TEMPLATES)]]),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["size"] = human_size
    env.filters["addressee"] = addressee
    return env


def render(name: str, override: str = "", /, **context) -> str:
    """Render the template *name* (e.g. "receipt/receipt.txt") with *context*."""
    return environment(override).get_template(name).render(**context)
