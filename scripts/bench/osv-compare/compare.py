#!/usr/bin/env python3
"""Compare osv-scanner's JSON output with charter's report for the same SBOM.

For every package: the advisory IDs osv-scanner reports (its vulnerabilities[].id) must
each be named by one of charter's findings for that package (the finding's rule or an
alias), and every charter finding must name at least one of them. Groups are compared
too: osv-scanner groups records by alias; charter makes one finding per group.

With --corpus DIR, each difference is explained from the advisory itself, by one of the
known reasons below; the exit status is 1 only when a difference has no known reason.

Usage: compare.py OSV_JSON CHARTER_JSON [--corpus DIR] [--explain]
"""
import json
import os
import re
import sys
from collections import defaultdict

ECO = {"Go": "golang", "PyPI": "pypi", "crates.io": "cargo", "npm": "npm", "Maven": "maven"}


def norm(typ, name):
    if typ == "pypi":
        return re.sub(r"[-_.]+", "-", name.lower())
    return name


def purl_key(purl):
    m = re.match(r"^pkg:([^/]+)/(.+)@([^?#]+)", purl)
    if not m:
        return None
    typ, path, ver = m.groups()
    if typ == "maven":
        path = path.replace("/", ":", 1)
    return (typ, norm(typ, path), ver)


# PEP 440's public version grammar (its appendix), for telling which installed versions
# charter refuses to order.
PEP440 = re.compile(
    r"^\s*v?(?:(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_\.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_\.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_\.]?(?:post|rev|r)[-_\.]?[0-9]*)?"
    r"(?:[-_\.]?dev[-_\.]?[0-9]*)?)(?:\+[a-z0-9]+(?:[-_\.][a-z0-9]+)*)?\s*$",
    re.IGNORECASE,
)

REASONS = {
    "not-pep440": "the installed version is not a PEP 440 version and the advisory's "
                  "versions list does not name it: charter cannot place it in a range (and "
                  "warns that ranges were not evaluated); osv-scanner orders it with its "
                  "lenient parser",
    "last-known": "the advisory's range has no end, and GHSA's database_specific."
                  "last_known_affected_version_range bounds it below this version: charter "
                  "honours the bound, osv-scanner reads only the range",
    "git-first": "the advisory lists a GIT range before its ECOSYSTEM range: osv-scanner "
                 "v1.9.2 stops reading ranges at the first GIT one and falls back to the "
                 "versions list, which does not name this version; charter reads the "
                 "ECOSYSTEM range, which contains it",
}


def load_corpus(d):
    recs = {}
    for root, _, files in os.walk(d):
        for f in files:
            if f.endswith(".json"):
                try:
                    with open(os.path.join(root, f)) as fh:
                        r = json.load(fh)
                    recs[r["id"]] = r
                except (OSError, ValueError, KeyError, TypeError):
                    pass
    return recs


def affected_for(rec, key):
    typ, name, _ = key
    for a in rec.get("affected") or []:
        pk = a.get("package") or {}
        if ECO.get(pk.get("ecosystem")) == typ and norm(typ, pk.get("name", "")) == name:
            yield a


def why_missing(recs, key, rid):
    typ, _, ver = key
    # charter matches a version it cannot order against the versions list by exact
    # string, as osv-scanner does: a listed one missing is a difference to explain
    if typ == "pypi" and not PEP440.match(ver) and \
            not any(ver in (a.get("versions") or []) for a in affected_for(recs.get(rid, {}), key)):
        return "not-pep440"
    for a in affected_for(recs.get(rid, {}), key):
        ds = a.get("database_specific") or {}
        if ds.get("last_known_affected_version_range"):
            return "last-known"
    return None


def why_extra(recs, key, ids):
    for rid in ids:
        for a in affected_for(recs.get(rid, {}), key):
            types = [r.get("type") for r in a.get("ranges") or []]
            if "GIT" in types and types.index("GIT") < len(types) - 1 and key[2] not in (a.get("versions") or []):
                return "git-first"
    return None


def main():
    osv_path, charter_path = sys.argv[1], sys.argv[2]
    explain = "--explain" in sys.argv
    recs = {}
    if "--corpus" in sys.argv:
        recs = load_corpus(sys.argv[sys.argv.index("--corpus") + 1])
    with open(osv_path) as fh:
        osv = json.load(fh)
    with open(charter_path) as fh:
        ch = json.load(fh)
    theirs = defaultdict(set)   # package -> record IDs
    groups = defaultdict(list)  # package -> [set of IDs]
    for res in osv.get("results") or []:
        for p in res.get("packages") or []:
            pk = p["package"]
            typ = ECO.get(pk["ecosystem"], pk["ecosystem"])
            key = (typ, norm(typ, pk["name"]), pk["version"])
            for v in p.get("vulnerabilities") or []:
                theirs[key].add(v["id"])
            for g in p.get("groups") or []:
                groups[key].append(set(g["ids"]))
    ours = defaultdict(list)  # package -> [set of IDs per finding]
    for f in ch.get("findings") or []:
        key = purl_key((f.get("location") or {}).get("package", ""))
        if key:
            ours[key].append({f["rule"], *(f.get("aliases") or [])})
    missing, extra, regrouped = [], [], []
    agree = 0
    for key in sorted(set(theirs) | set(ours)):
        t, o = theirs.get(key, set()), ours.get(key, [])
        named = set().union(*o) if o else set()
        for rid in sorted(t - named):
            missing.append((key, rid))
        for ids in o:
            if not ids & t:
                extra.append((key, sorted(ids)))
        if not (t - named) and all(ids & t for ids in o):
            agree += 1
            # one charter finding per osv-scanner group
            for g in groups.get(key, []):
                hits = [ids for ids in o if ids & g]
                if len(hits) != 1:
                    regrouped.append((key, sorted(g), len(hits)))
    print(f"packages with findings: osv-scanner {len(theirs)}, charter {len(ours)}; agreeing packages {agree}")
    print(f"advisory IDs: osv-scanner {sum(len(v) for v in theirs.values())}, charter findings {sum(len(v) for v in ours.values())}")
    print(f"missing in charter: {len(missing)}; only in charter: {len(extra)}; groups split or joined: {len(regrouped)}")
    counts, unexplained = {}, 0
    for kind, key, ids, why in [("MISSING", k, [r], why_missing(recs, k, r)) for k, r in missing] + \
                               [("ONLY-CHARTER", k, i, why_extra(recs, k, i)) for k, i in extra]:
        counts[(kind, why)] = counts.get((kind, why), 0) + 1
        if why is None:
            unexplained += 1
        if explain or why is None:
            print(kind, "/".join(key), ",".join(ids), why or "UNEXPLAINED")
    for key, g, n in regrouped:
        unexplained += 1
        print("GROUP", "/".join(key), ",".join(g), f"in {n} charter findings")
    for (kind, why), n in sorted(counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"  {kind} x{n}: {REASONS.get(why, 'UNEXPLAINED')}")
    print(f"unexplained differences: {unexplained}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
