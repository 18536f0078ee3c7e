"""Reading an SLO spec: choose its format, then hand the bytes to that format's loader.

Two formats map to the one model (``slo.model.Spec``): ``loadgate/v1`` (``slo.loadgate_v1``) and
OpenSLO v1 documents (``slo.openslo``). ``load_spec(data, filename)`` only parses;
``read_spec(path)`` is the thin wrapper that reads a file or a directory. Either raises
``SpecError`` (``slo.located``) holding *every* problem found, each located as
``file:line: field.path: what is wrong`` so a person can fix the whole file in one pass.

The names this module has always offered stay importable from here (``SpecError``,
``SpecIssue``, ``SPEC_VERSION``, ``dump_spec``); their homes are the modules above and
``slo.spec_write``.
"""

from __future__ import annotations

import re
from pathlib import Path

from slo.loadgate_v1 import SPEC_VERSION, load_loadgate_v1
from slo.located import SpecError, SpecIssue, read_bytes
from slo.model import Spec
from slo.openslo.documents import API_VERSION, api_version, is_openslo
from slo.openslo.read import load_openslo
from slo.spec_write import dump_spec

__all__ = ["SPEC_VERSION", "SpecIssue", "SpecError", "load_spec", "read_spec", "dump_spec"]

#: The files of a directory read as one set of OpenSLO documents.
DIRECTORY_SUFFIXES = (".yaml", ".yml", ".json")
_VERSION_KEY_RE = re.compile(r"^[\"']?version[\"']?\s*:", re.M)


def read_spec(path: str | Path) -> Spec:
    """Read and parse the spec at ``path``: a ``loadgate/v1`` file, a file of OpenSLO v1 documents,
    or a directory whose ``*.yaml``, ``*.yml`` and ``*.json`` files are one set of OpenSLO documents
    (an SLO may then refer to an SLI in another file). Problems are a ``SpecError``."""
    given = Path(path)
    if given.is_dir():
        files = sorted(p for p in given.iterdir() if p.suffix in DIRECTORY_SUFFIXES and p.is_file())
        if not files:
            raise SpecError([SpecIssue(str(given), 0, "(directory)", "no *.yaml, *.yml or *.json files in it")])
        found = [(str(f), read_bytes(f)) for f in files]
        plain = [name for name, data in found if not is_openslo(data.decode("utf-8", "replace"))]
        if plain:
            raise SpecError([SpecIssue(name, 0, "(file)", "a directory of specs holds OpenSLO documents only "
                                                          "(apiVersion: openslo/v1); give a loadgate/v1 spec as "
                                                          "its own file") for name in plain])
        return load_openslo(found)
    return load_spec(read_bytes(given), str(given))


def load_spec(data: bytes, filename: str = "<spec>") -> Spec:
    """Parse spec bytes (``loadgate/v1``, or OpenSLO v1 documents in YAML or JSON) into a
    ``Spec``, or raise ``SpecError`` listing every problem. A file whose ``apiVersion`` is neither
    (and that has no ``version``) is one error naming what loadgate reads."""
    text = data.decode("utf-8", "replace")
    found = api_version(text)
    if found is not None and found[0].lower().startswith("openslo/"):
        return load_openslo([(filename, data)])
    if found is not None and not _VERSION_KEY_RE.search(text):
        api, line = found
        hint = " (a loadgate/v1 spec says 'version: loadgate/v1', not apiVersion)" if api == SPEC_VERSION else ""
        raise SpecError([SpecIssue(filename, line, "apiVersion",
                                   f"unsupported apiVersion {api!r}{hint}: loadgate reads "
                                   f"'version: {SPEC_VERSION}' specs and 'apiVersion: {API_VERSION}' documents")])
    return load_loadgate_v1(data, filename)
