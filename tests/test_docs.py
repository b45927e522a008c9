"""The documents: the root README is a short index (under ~10 KB) whose model table lists every registered
model with its parameter count, the models README has the same rows, and every relative link resolves."""

from __future__ import annotations

import re

import pytest
import torch
from conftest import REPO

import lgvit

README = REPO / "README.md"
DOCS = [README, REPO / "lgvit" / "models" / "README.md", REPO / "tools" / "README.md"]
# documents that other parts of the tree write; a link to one of them may not resolve yet
PENDING = {"projects/LGViTCls/README.md"}
ROW = re.compile(r"^\| `(?P<name>[a-z0-9_]+)` \| (?P<params>[0-9.]+) \|.*$", re.M)


def _table(path) -> dict[str, str]:
    return {m["name"]: m.group(0) for m in ROW.finditer(path.read_text())}


def test_root_readme_is_short():
    assert README.stat().st_size < 10 * 1024, README.stat().st_size


def test_model_tables_list_every_registered_model_with_its_parameter_count():
    root = _table(README)
    assert sorted(root) == sorted(lgvit.list_models())
    assert _table(REPO / "lgvit" / "models" / "README.md") == root  # one table, the same in both places
    for name, row in root.items():
        with torch.device("meta"):
            model = lgvit.create_model(name)
        params = float(ROW.match(row)["params"])
        assert params == round(sum(p.numel() for p in model.parameters()) / 1e6, 2), name


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(doc):
    text = doc.read_text()
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    missing = [t for t in links if not (doc.parent / t).exists() and t not in PENDING]
    assert missing == [], missing
    assert "DESIGN.md" not in text and not re.search(r"\bissue \d+", text)
