"""Finding and reading the spec a command names, with errors as ``UserError``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from analysis.presets import PRESETS, with_overrides
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


def load_spec_or_fail(path: str, selector: str = "", preset: str | None = None) -> Spec:
    """Read a spec, turning every located problem into one ``UserError`` (exit 2). A ``selector``
    (``--selector``) that an objective's literal PromQL cannot take is refused here (exit 2),
    never silently left out; so is a ``preset`` (``--preset``) for a spec whose queries are its own."""
    try:
        spec = read_spec(resolve_spec_path(path))
    except SpecError as exc:
        raise UserError(str(exc)) from None
    if preset is not None:
        if spec.format != "loadgate/v1":
            raise UserError(f"--preset: {spec.path} is {spec.format}, whose queries are its own; a preset names the "
                            "series a loadgate/v1 spec's default queries read")
        spec = dataclasses.replace(spec, metrics=with_overrides(PRESETS[preset], dict(spec.metrics_overrides)))
    for given, flag in ((selector, "--selector"), (spec.selector, f"{spec.path}: selector")):
        refusal = refuse_selector(spec, given, flag)
        if refusal:
            raise UserError(refusal)
    return spec
