"""What every classification rule returns: a decision and the evidence for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """One reason behind a decision.

    ``rule`` is a stable rule name (e.g. "school.domain", "kind.keyword",
    "link.bilibili"); ``detail`` says in Chinese what was seen and where
    (e.g. "发件人域名 scu.edu.cn → 四川大学").
    """

    rule: str
    detail: str
