"""The README's examples, run as written against a live `ccms serve` with the demo data.

Each region of the README between `<!-- name:start -->` and `<!-- name:end -->` is a session: its
`sh` blocks run in order in one bash, in a directory of their own, against a server of its own
started fresh (the examples quote the ids of a fresh demo database). The only change made to
them is the address: `http://127.0.0.1:8000` becomes the test server's.

A block followed by a `json` or `text` block is held to it: the same error codes (none, where
the README shows none), and the same `HTTP nnn` lines. A block without one must answer no error
code at all. So an example that stops working (a credit code not in the demo data, a token
never defined, a renamed field) fails here instead of in a reader's terminal.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.server import REPO, serve

README = REPO / "README.md"
ADDRESS = "http://127.0.0.1:8000"
REGION = re.compile(r"<!-- ([\w-]+):start -->\n(.*?)<!-- \1:end -->", re.S)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
CODE = re.compile(r'"code"\s*:\s*"([A-Z_]+)"')
STATUS = re.compile(r"^HTTP \d{3}$", re.M)
MARK = "@@ccms-readme-step@@"


@dataclass
class Step:
    script: str
    expected: str | None  # the json/text block shown after it, if any


def regions() -> dict[str, list[Step]]:
    found: dict[str, list[Step]] = {}
    for name, body in REGION.findall(README.read_text()):
        blocks = FENCE.findall(body)
        steps = []
        for i, (lang, text) in enumerate(blocks):
            if lang == "sh":
                after = blocks[i + 1] if i + 1 < len(blocks) else None
                steps.append(Step(text, after[1] if after and after[0] in ("json", "text") else None))
        found[name] = steps
    return found


def test_the_readme_marks_its_runnable_examples() -> None:
    assert set(regions()) >= {"walkthrough", "allocation", "energy", "export"}
    assert all(regions().values())


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl")
@pytest.mark.parametrize("region", sorted(regions()))
def test_the_readme_examples_run_as_written(region: str, tmp_path: Path) -> None:
    steps = regions()[region]
    work = tmp_path / "work"
    work.mkdir()
    with serve(tmp_path / "var", {"CCMS_LOG_FORMAT": "json"}) as server:
        script = "".join(
            step.script.replace(ADDRESS, server.url) + f"\necho; echo '{MARK}'\n" for step in steps
        )
        run = subprocess.run(
            ["bash", "-c", script], cwd=work, capture_output=True, text=True, timeout=600, check=False
        )
    outputs = run.stdout.split(MARK + "\n")[: len(steps)]
    assert len(outputs) == len(steps), run.stdout + run.stderr
    assert run.returncode == 0, run.stderr
    for number, (step, output) in enumerate(zip(steps, outputs, strict=True), start=1):
        where = (
            f"{region}, example {number}:\n{step.script}\n--- answered:\n{output}\n--- stderr:\n{run.stderr}"
        )
        shown = step.expected or ""
        assert sorted(CODE.findall(output)) == sorted(CODE.findall(shown)), where
        assert STATUS.findall(output) == STATUS.findall(shown), where
        assert '"data":null' not in output or '"data":null' in shown, where
