"""Finding and reading the spec a command names, with errors as ``UserError``."""

from __future__ import annotations

from pathlib import Path

from loadgate.errors import UserError
from slo.model import Spec
from slo.openslo import refuse_selector
from slo.spec import SpecError, read_spec

__all__ = ["DEFAULT_SPEC", "resolve_spec_path", "load_spec_or_fail"]

DEFAULT_SPEC = "slo/targets/production.yaml"
_PACKAGED = Path(__file__).resolve().parent.parent / "slo" / "targets"


def resolve_spec_path(path: str) -> Path:
    """The path as given; for a spec shipped with loadgate (``slo/targets/local.yaml``, the default
    ``slo/targets/production.yaml``) that is not there, the shipped copy, so commands work from any
    directory."""
    given = Path(path)
    if given.exists() or given.parent != Path("slo/targets") or not (_PACKAGED / given.name).is_file():
        return given
    return _PACKAGED / given.name


def load_spec_or_fail(path: str, selector: str = "") -> Spec:
    """Read a spec, turning every located problem into one ``UserError`` (exit 2). A ``selector``
    (``--selector``) that an objective's literal PromQL cannot take is refused here (exit 2),
    never silently left out."""
    try:
        spec = read_spec(resolve_spec_path(path))
    except SpecError as exc:
        raise UserError(str(exc)) from None
    for given, flag in ((selector, "--selector"), (spec.selector, f"{spec.path}: selector")):
        refusal = refuse_selector(spec, given, flag)
        if refusal:
            raise UserError(refusal)
    return spec
