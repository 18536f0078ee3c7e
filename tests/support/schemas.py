"""The JSON Schemas under ``schemas/``, and checks of stored documents against them (never in the product)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
#: The stored file each schema describes.
FILES = {"verdict.json": "verdict", "run.json": "run", "capacity.json": "capacity", "history.json": "history"}


#: JSON Schema's own ``integer`` accepts 968.0 ("a number with a zero fractional part"); a stored count
#: must be written as an integer, so here ``integer`` means a JSON integer literal.
_STRICT_TYPES = Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool))
_Strict = validators.extend(Draft202012Validator, type_checker=_STRICT_TYPES)


@cache
def validator(name: str) -> Any:
    """The validator of ``schemas/<name>.schema.json``, integers strict; ``verdict`` resolves its
    ``run`` by ``$id``."""
    docs = {n: json.loads((SCHEMAS / f"{n}.schema.json").read_text()) for n in FILES.values()}
    registry: Registry[Any] = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in docs.values())
    Draft202012Validator.check_schema(docs[name])
    return _Strict(docs[name], registry=registry)


def problems(doc: Any, name: str) -> list[str]:
    """Every way ``doc`` breaks the ``name`` schema, as ``path: message`` lines (empty when it fits)."""
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                  for e in validator(name).iter_errors(doc))


def check_tree(root: Path) -> list[str]:
    """Every stored ``verdict.json``, ``run.json``, ``capacity.json`` and ``history.json`` under ``root`` checked
    against its schema; the problems as ``file: path: message`` lines."""
    out = []
    for file_name, schema in FILES.items():
        for path in sorted(root.rglob(file_name)):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                out.append(f"{path}: unreadable: {exc}")
                continue
            out += [f"{path}: {p}" for p in problems(doc, schema)]
    return out
