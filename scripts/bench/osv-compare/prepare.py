#!/usr/bin/env python3
"""Prepare charter's comparison with osv-scanner from a folder of OSV records.

Writes, under OUT:
  osv-scanner/<ecosystem>/all.zip   one OSV zip per ecosystem (the layout osv-scanner's
                                    offline mode reads, and what charter imports)
  bom.cdx.json                      a CycloneDX 1.5 SBOM of the packages the advisories
                                    name, at the versions they name (introduced, fixed,
                                    last_affected, the first and last listed), plus a
                                    version below and above each where one can be made,
                                    and every listed PyPI version that is not a PEP 440
                                    version (matched by exact string: always compared)

Usage: prepare.py CORPUS_DIR OUT_DIR [MAX_COMPONENTS]
"""
import json
import os
import re
import sys
import zipfile

from compare import PEP440

PURL_TYPE = {"Go": "golang", "PyPI": "pypi", "crates.io": "cargo", "npm": "npm", "Maven": "maven"}


def purl(eco, name, version):
    t = PURL_TYPE[eco]
    if eco == "Maven":
        group, _, artifact = name.partition(":")
        return f"pkg:maven/{group}/{artifact}@{version}"
    if eco == "PyPI":
        # the purl spec's form: lower case, "_" as "-"; dots stay (osv-scanner v1.9.2
        # compares this name with the advisory's as written: jw-util is not jw.util)
        name = name.lower().replace("_", "-")
    return f"pkg:{t}/{name}@{version}"


def bump(v, delta):
    """1.2.3 -> 1.2.4 (delta 1) or 1.2.2 (delta -1); None when v does not end in a number."""
    m = re.match(r"^(.*?)(\d+)$", v)
    if not m:
        return None
    n = int(m.group(2)) + delta
    if n < 0:
        return None
    return m.group(1) + str(n)


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    by_eco = {}
    versions = {}
    unorderable = set()  # (ecosystem, name, version) listed, not PEP 440
    for root, _, files in os.walk(corpus):
        for f in sorted(files):
            if not f.endswith(".json"):
                continue
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
                rec = json.loads(data)
            except (OSError, ValueError):
                continue
            if not isinstance(rec, dict) or "id" not in rec:
                continue
            ecos = set()
            for a in rec.get("affected") or []:
                pkg = a.get("package") or {}
                eco, name = pkg.get("ecosystem"), pkg.get("name")
                if not eco or not name:
                    continue
                ecos.add(eco.split(":")[0])
                if eco not in PURL_TYPE:
                    continue
                vs = versions.setdefault((eco, name), set())
                listed = a.get("versions") or []
                if listed:
                    vs.update([listed[0], listed[-1]])
                if eco == "PyPI":
                    unorderable.update((eco, name, v) for v in listed if not PEP440.match(v))
                for r in a.get("ranges") or []:
                    if r.get("type") == "GIT":
                        continue
                    for e in r.get("events") or []:
                        for k in ("introduced", "fixed", "last_affected"):
                            v = e.get(k)
                            if v and v != "0":
                                vs.add(v)
                                for d in (-1, 1):
                                    b = bump(v, d)
                                    if b:
                                        vs.add(b)
            for eco in ecos:
                by_eco.setdefault(eco, []).append((rec["id"], data))
    for eco, recs in by_eco.items():
        d = os.path.join(out, "osv-scanner", eco)
        os.makedirs(d, exist_ok=True)
        with zipfile.ZipFile(os.path.join(d, "all.zip"), "w", zipfile.ZIP_DEFLATED) as z:
            seen = set()
            for rid, data in recs:
                if rid in seen:
                    continue
                seen.add(rid)
                z.writestr(rid + ".json", data)
    components = []
    for (eco, name), vs in sorted(versions.items()):
        for v in sorted(vs):
            if v.startswith("v") and eco != "Go":
                continue
            p = purl(eco, name, v)
            components.append({"type": "library", "bom-ref": p, "name": name, "version": v, "purl": p})
    step = max(1, len(components) // limit)
    components = components[::step][:limit]
    have = {c["purl"] for c in components}
    for eco, name, v in sorted(unorderable):
        p = purl(eco, name, v)
        if p not in have:
            have.add(p)
            components.append({"type": "library", "bom-ref": p, "name": name, "version": v, "purl": p})
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "osv-compare", "bom-ref": "osv-compare"}},
        "components": components,
    }
    with open(os.path.join(out, "bom.cdx.json"), "w") as fh:
        json.dump(bom, fh, indent=1)
    print(f"{len(components)} components; zips for {', '.join(sorted(by_eco))}", file=sys.stderr)


if __name__ == "__main__":
    main()
