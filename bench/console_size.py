"""The console's JavaScript, gzipped: every chunk, and what each route loads.

    .venv/bin/python bench/console_size.py [--check]

Reads the build in api/static (`make web`) and its Vite manifest. A route's JavaScript is the
entry chunk of index.html, the route's own lazy chunk, and every chunk those import
statically, transitively: what the browser must fetch before the route can show. ECharts
is in a chunk of its own, loaded with the first chart (a dynamic import), so it counts for no
route. `--check` exits with 1 when the first route (the sign-in page) or the regulator's and
the enterprise's landing pages exceed 500 KB gzipped, the budget of issue 10.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "api" / "static"
BUDGET = 500 * 1024
# The routes a user meets first: sign-in, then the landing page of each role.
LANDING = {
    "sign-in (first route)": "src/features/auth/LoginPage.vue",
    "regulator overview": "src/features/overview/OverviewPage.vue",
    "enterprise inbox": "src/features/inbox/InboxPage.vue",
}


@dataclass(frozen=True)
class Chunk:
    key: str
    file: str
    imports: tuple[str, ...]
    raw: int
    gzipped: int


def load(static: Path = STATIC) -> dict[str, Chunk]:
    manifest = json.loads((static / ".vite" / "manifest.json").read_text())
    chunks = {}
    for key, entry in manifest.items():
        if not entry["file"].endswith(".js"):
            continue
        data = (static / entry["file"]).read_bytes()
        chunks[key] = Chunk(
            key, entry["file"], tuple(entry.get("imports", ())), len(data), len(gzip.compress(data, 9))
        )
    return chunks


def closure(chunks: dict[str, Chunk], *keys: str) -> set[str]:
    """The chunks `keys` load before running: themselves and their static imports, transitively."""
    seen: set[str] = set()
    todo = list(keys)
    while todo:
        key = todo.pop()
        if key in seen or key not in chunks:
            continue
        seen.add(key)
        todo.extend(chunks[key].imports)
    return seen


def route_size(chunks: dict[str, Chunk], route: str) -> int:
    """Gzipped bytes of JavaScript the console's page needs before `route` shows (the app shell
    is a chunk of the route too, where the route sits inside it)."""
    keys = closure(chunks, "index.html", route)
    if route != LANDING["sign-in (first route)"]:
        keys |= closure(chunks, "src/components/AppShell.vue")
    return sum(chunks[key].gzipped for key in keys)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a landing route is over budget")
    args = parser.parse_args()
    if not (STATIC / ".vite" / "manifest.json").exists():
        print(f"no build in {STATIC}: run `make web` first", file=sys.stderr)
        return 2
    chunks = load()
    print(f"{'chunk':<58} {'raw KB':>9} {'gzip KB':>9}")
    for chunk in sorted(chunks.values(), key=lambda c: -c.gzipped):
        print(f"{chunk.file:<58} {chunk.raw / 1024:>9.1f} {chunk.gzipped / 1024:>9.1f}")
    print()
    over = False
    for name, route in LANDING.items():
        size = route_size(chunks, route)
        over |= size > BUDGET
        print(f"{name:<30} {size / 1024:>8.1f} KB gzipped (budget {BUDGET // 1024} KB)")
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
