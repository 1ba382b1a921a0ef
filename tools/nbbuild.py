"""Build a committed notebook from a plain-text cell list, with the metadata papermill needs.

Usage from another script: write_notebook(path, [("md", text), ("params", code), ("code", code), ...]).
Notebooks are committed without outputs; this keeps their metadata uniform.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def write_notebook(path, cells) -> None:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "paperlib", "display_name": "Python 3 (paperlib)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for kind, src in cells:
        src = src.strip("\n")
        if kind == "md":
            nb.cells.append(new_markdown_cell(src))
        elif kind == "params":
            nb.cells.append(new_code_cell(src, metadata={"tags": ["parameters"]}))
        else:
            nb.cells.append(new_code_cell(src))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:02d}"
    nbformat.validate(nb)
    Path(path).write_text(nbformat.writes(nb) + "\n")
