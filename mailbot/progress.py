"""Who has sent what: the school × deliverable matrix, per district (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

KINDS = ("plan", "news", "video")
UNASSIGNED = "未分配片区"
PLAN_INCOMPLETE = "△"  # a plan arrived, but every one lacks template items (方案待补)


def complete_plan(row: dict) -> bool:
    """An accepted plan lacking none of the template's items (or completed by a reply)."""
    return row.get("status") == "accepted" and "plan" in (row.get("kinds") or ()) \
        and not row.get("plan_missing")


def cell(sent: Collection[str], plan_complete: bool) -> dict[str, bool]:
    """A school's row of the matrix: {plan, news, video: sent?, plan_incomplete: a plan was
    sent, but none of its accepted plans is complete}."""
    return {**{k: k in sent for k in KINDS},
            "plan_incomplete": "plan" in sent and not plan_complete}


def mark(sent: Mapping[str, bool], kind: str, missing: str = "✗") -> str:
    """✓ sent, △ a plan still lacking items, else *missing*."""
    if not sent.get(kind):
        return missing
    return PLAN_INCOMPLETE if kind == "plan" and sent.get("plan_incomplete") else "✓"


def matrix(rows: Sequence[dict], schools_by_district: Mapping[str, Sequence[str]]
           ) -> list[tuple[str, str, dict[str, bool]]]:
    """(district, school, :func:`cell`) for every school of every district, then the
    schools with accepted mail but no district (under "未分配片区").

    Only ``accepted`` submissions count; *rows* are ``report.submission`` dicts (a district
    leader's files of its schools count for those schools).
    """
    sent: dict[str, set[str]] = {}
    complete: set[str] = set()
    district_of: dict[str, str | None] = {}
    for r in settle_districts(per_school(list(rows)), schools_by_district):
        if r["status"] == "accepted" and r["school"]:
            sent.setdefault(r["school"], set()).update(r["kinds"])
            district_of.setdefault(r["school"], r["district"])
            if complete_plan(r):
                complete.add(r["school"])
    out, listed = [], set()
    for district, schools in schools_by_district.items():
        for school in schools:
            out.append((district, school, cell(sent.get(school, ()), school in complete)))
            listed.add(school)
    order = {name: i for i, name in enumerate(schools_by_district)}
    extra = sorted(set(sent) - listed, key=lambda sc: (order.get(district_of[sc], len(order)),
                                                       district_of[sc] or "", sc))
    for school in extra:
        out.append((district_of[school] or UNASSIGNED, school,
                    cell(sent[school], school in complete)))
    return out


def per_school(rows: list[dict]) -> list[dict]:
    """*rows* as each school delivered them: an accepted row's credits (a district
    leader's files and links of its schools) become rows of those schools — the leader's
    row, its subject and time, holding only those files and links, with ``credited_by`` —
    and the leader's row keeps the rest (dropped if nothing is left: no kinds, files or links).  The rows
    it makes carry no credits: a second pass changes nothing."""
    out = []
    for r in rows:
        credits = (r.get("credits") or ()) if r.get("status") == "accepted" else ()
        if not credits:
            out.append(r)
            continue
        moved, files = {f for c in credits for f in c["files"]}, r.get("attachments") or []
        given = {u.rstrip("/") for c in credits for u in c.get("links", ())}  # an anchor's
        links = r.get("links") or []  # href may end in a "/" its shown address has not
        own = {**r, "attachments": [a for a in files if a["filename"] not in moved],
               "links": [ln for ln in links if ln["url"].rstrip("/") not in given], "credits": []}
        if own.get("kinds") or own["attachments"] or own.get("links"):
            out.append(own)
        for c in credits:
            out.append({**r, "school": c["school"], "district": c["district"],
                        "kinds": list(c["kinds"]), "plan_missing": list(c["plan_missing"]),
                        "attachments": [a for a in files if a["filename"] in c["files"]],
                        "links": [ln for ln in links if ln["url"].rstrip("/") in
                                  {u.rstrip("/") for u in c.get("links", ())}],
                        "plan_info": dict(c.get("plan_info") or {}),
                        "late": bool(c.get("late")), "credited_by": r.get("school"),
                        "credits": []})
    return out


def settle_districts(rows: list[dict], schools_by_district: Mapping[str, Sequence[str]]
                     ) -> list[dict]:
    """*rows* with one district per school, so that the status table, each digest and the
    export place a school alike: the district the directory (and roster) gives it, else
    the one its rows carry most often (a school a district leader forwarded is in the
    leader's district; ties go to the earliest row), else none.  Rows without a school
    are left as they are."""
    home = {school: d for d, schools in schools_by_district.items() for school in schools}
    seen: dict[str, Counter] = {}
    for r in rows:
        if r.get("school") and r.get("district") and r["school"] not in home:
            seen.setdefault(r["school"], Counter())[r["district"]] += 1
    home |= {school: counts.most_common(1)[0][0] for school, counts in seen.items()}
    return [r if not r.get("school") or home.get(r["school"]) == r.get("district")
            else {**r, "district": home.get(r["school"])} for r in rows]


def schools_by_district(directory, district_names: Sequence[str]) -> dict[str, list[str]]:
    """District name -> official names of its schools (directory and roster), in config order."""
    out: dict[str, list[str]] = {name: [] for name in district_names}
    for school in directory.schools:
        if school.district in out:
            out[school.district].append(school.name)
    return out
