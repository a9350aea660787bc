"""The README is a user's guide that works: its Python snippets run, its commands are CI's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SNIPPETS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_there_are_snippets_for_every_model():
    text = "\n".join(SNIPPETS)
    for module in ("simulate_cable", "wave.find_wave_speed", "extracellular", "population", "sweep.run"):
        assert module in text, module


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs(index, capsys):
    exec(compile(SNIPPETS[index], f"README.md snippet {index + 1}", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.strip()  # each snippet prints what it computed


def test_readme_commands_are_what_ci_runs():
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    install, main_job, test = (line.split("#")[0].strip() for line in block.strip().splitlines())
    ci = (ROOT / ".ci" / "run").read_text()
    assert install in ci and re.search(rf"^{re.escape(test)}$", ci, re.M)
    assert main_job.startswith("jaxneuro reproduce --out ")


def test_readme_links_exist():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
