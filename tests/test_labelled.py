"""The labelled evaluation set: every field a clerk would fill, as `submissions --json` shows it.

tests/data/labelled/ holds realistic mails written byte-exact (QQ Mail, Foxmail, Outlook,
Coremail, 163/126, Apple Mail, forwards, robots) and labels.toml with what a careful
secretariat clerk decided for each.  The score must be 100% on school, kinds, status,
links and plan_missing.
"""

from __future__ import annotations

import json
import tomllib

import pytest
from conftest import ROOT, run_cli

LABELLED = ROOT / "tests" / "data" / "labelled"
LABELS = tomllib.loads((LABELLED / "labels.toml").read_text(encoding="utf-8"))["mail"]


CONFIG = ROOT / "config.example.toml"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("labelled")
    (tmp / "data").mkdir()
    env = {"MAILBOT_DATA_DIR": str(tmp / "data"),
           "MAILBOT_DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}"}
    run_cli("import", *[str(LABELLED / m["file"]) for m in LABELS], config=CONFIG, env=env)
    return env


@pytest.fixture(scope="module")
def listing(env) -> dict[str, dict]:
    rows = json.loads(run_cli("submissions", "--json", config=CONFIG, env=env).stdout)
    return {r["source"].rsplit("/", 1)[1]: r for r in rows}


def test_status_matrix_counts_only_accepted_mail(env, listing):
    status = json.loads(run_cli("status", "--json", config=CONFIG, env=env).stdout)
    grid = {(d["district"], d["school"]): d for d in status["districts"]}
    for label in LABELS:
        if label["status"] == "accepted":  # a school has one row, in its district: its own
            # mail's, else the one a leader's mail placed it in, else 未分配片区
            row = listing[label["file"]]
            (cell,) = [c for (_, school), c in grid.items() if school == label["school"]]
            assert row["district"] in (None, "", cell["district"])
            assert all(cell[k] for k in label["kinds"])
        for credit in label.get("credits", ()):  # a leader's files of its schools
            (cell,) = [c for (_, school), c in grid.items() if school == credit["school"]]
            assert all(cell[k] for k in credit["kinds"])
    assert {d["district"] for d in status["districts"]} >= {"成都第一片区", "川南片区", "未分配片区"}
    assert status["messages"]["accepted"] == sum(m["status"] == "accepted" for m in LABELS) + \
        sum(p["status"] == "accepted" for m in LABELS for p in m.get("parts", ()))
    human = run_cli("status", config=CONFIG, env=env).stdout
    assert "报送进度" in human and "四川师范大学" in human


def _links(items) -> list[tuple[str, str]]:
    return sorted((x["url"], x["platform"]) for x in items)


def _fields(row: dict) -> dict:
    return {"school": row["school"] or "", "kinds": row["kinds"], "status": row["status"],
            "links": _links(row["links"]), "plan_missing": row["plan_missing"]}


@pytest.mark.parametrize("label", LABELS, ids=[m["file"][:40] for m in LABELS])
def test_labelled_mail(listing, label):
    """Each mail as labelled; a bundle's forwarded mails each as a submission of its own,
    a part of the bundle (its source: the bundle's, then #1, #2...); a district leader's
    files of its schools credited to them."""
    row = listing[label["file"]]
    want = {k: label.get(k, []) for k in ("school", "kinds", "status", "links", "plan_missing")}
    assert _fields(row) == {**want, "links": _links(want["links"])}, label.get("note", "")
    labelled = label.get("parts", [])
    parts = [listing.get(f"{label['file']}#{n}") for n in range(1, len(labelled) + 2)]
    assert [p and p["part_of"] for p in parts] == [row["id"]] * len(labelled) + [None]
    for got, part in zip(parts, labelled):
        assert _fields(got) == {**part, "links": _links(part["links"])}, label["note"]
    assert [{k: c[k] for k in ("school", "kinds", "files", "plan_missing")}
            for c in row["credits"]] == label.get("credits", []), label["note"]
