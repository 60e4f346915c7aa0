"""Dependency audit that works through this machine's PyPI access.

``pip-audit`` asks PyPI for each installed version's advisories
(``/pypi/NAME/VERSION/json``) or asks OSV; from this machine neither answers (see
``benchmarks/results/pip-audit.md``). PyPI's project page (``/pypi/NAME/json``) does
answer, and it lists the known vulnerabilities of the project's latest release. So
each installed distribution is audited when it is that latest release, and reported
as not audited otherwise (never counted clean). Writes
``benchmarks/results/audit.md`` and exits 1 if a vulnerability is found.

    .venv/bin/python -m benchmarks.audit
"""

from __future__ import annotations

import datetime as dt
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import httpx

OUT = Path(__file__).resolve().parent / "results" / "audit.md"


def _check(client: httpx.Client, name: str, version: str) -> tuple[str, str, str, list[str]]:
    """(name, version, outcome, vulnerability ids) for one installed distribution."""
    try:
        response = client.get(f"https://pypi.org/pypi/{name}/json")
    except httpx.HTTPError as exc:
        return name, version, f"not audited: {type(exc).__name__}", []
    if response.status_code != 200:
        return name, version, f"not audited: PyPI answered {response.status_code}", []
    data = response.json()
    latest = data["info"]["version"]
    if latest != version:
        return name, version, f"not audited: PyPI's advisories are for {latest}", []
    found = [v.get("id") or "?" for v in data.get("vulnerabilities") or []]
    return name, version, "VULNERABLE" if found else "clean", found


def main() -> int:
    installed = sorted(
        {(d.metadata["Name"].lower(), d.version) for d in metadata.distributions()}
        - {("respite", metadata.version("respite"))}  # this project (PyPI's is another)
    )
    with httpx.Client(timeout=30, follow_redirects=True) as client, ThreadPoolExecutor(8) as pool:
        rows = list(pool.map(lambda item: _check(client, *item), installed))
    clean = sum(row[2] == "clean" for row in rows)
    bad = [row for row in rows if row[2] == "VULNERABLE"]
    lines = [
        "# Dependency audit (PyPI advisories of each project's latest release)",
        "",
        f"Run {dt.date.today()} with `.venv/bin/python -m benchmarks.audit` on the project venv.",
        "",
        f"{len(rows)} distributions: {clean} audited clean, {len(bad)} with advisories, "
        f"{len(rows) - clean - len(bad)} not audited.",
        "",
        "| distribution | version | outcome | advisories |",
        "|---|---|---|---|",
        *(f"| {n} | {v} | {o} | {', '.join(ids)} |" for n, v, o, ids in rows),
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:6]))
    for name, version, _, ids in bad:
        print(f"{name} {version}: {', '.join(ids)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
