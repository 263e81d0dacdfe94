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


@pytest.fixture(scope="module")
def listing(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("labelled")
    env = {"MAILBOT_DATA_DIR": str(tmp / "data"),
           "MAILBOT_DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}"}
    config = ROOT / "config.example.toml"
    files = [str(LABELLED / m["file"]) for m in LABELS]
    run_cli("import", *files, config=config, env=env)
    rows = json.loads(run_cli("submissions", "--json", config=config, env=env).stdout)
    return {r["source"].rsplit("/", 1)[1]: r for r in rows}


def _links(items) -> list[tuple[str, str]]:
    return sorted((x["url"], x["platform"]) for x in items)


@pytest.mark.parametrize("label", LABELS, ids=[m["file"][:40] for m in LABELS])
def test_labelled_mail(listing, label):
    row = listing[label["file"]]
    got = {"school": row["school"] or "", "kinds": row["kinds"], "status": row["status"],
           "links": _links(row["links"]), "plan_missing": row["plan_missing"]}
    want = {"school": label["school"], "kinds": label["kinds"], "status": label["status"],
            "links": _links(label.get("links", [])), "plan_missing": label.get("plan_missing", [])}
    assert got == want, label.get("note", "")
