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


@lru_cache(maxsize=8)
def environment(override: str = "") -> Environment:
    """The template environment: *override* folder (if any) before the bundled templates."""
    folders = [override] if override else []
    env = Environment(loader=ChoiceLoader([FileSystemLoader(f) for f in
                                           [*folders, str(BUNDLED_TEMPLATES)]]),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["size"] = human_size
    return env


def render(name: str, override: str = "", /, **context) -> str:
    """Render the template *name* (e.g. "receipt/receipt.txt") with *context*."""
    return environment(override).get_template(name).render(**context)
