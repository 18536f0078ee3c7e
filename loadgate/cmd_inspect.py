"""``loadgate inspect``: what a Prometheus holds for a service, which preset reads it, and what it can grade.

    loadgate inspect --prometheus URL [--selector M] [--spec FILE] [--out starter.yaml]

Reads the Prometheus's metric names, the labels and status values of the likely request series, the
``le`` bounds of the likely duration histograms, the ``up`` targets and the metadata (nothing else:
every read is bounded by matchers and the last hour, and by the client's timeout). Prints the
request counters, duration histograms (with their unit), status labels and their value forms, cache
counters and ``up`` targets it found, the preset that fits (or a mapping from the shapes alone), and
for each objective of the spec (the production table by default) whether the buckets present grade
it exactly. ``--out`` writes a starter ``loadgate/v1`` spec with that mapping, which ``validate``
accepts and ``gate --spec`` grades as it is. Exit 0 when HTTP request series were found, 3 when none
were (saying what was), 2 on usage.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TextIO

from analysis.inventory import Findings, Inventory, assess, candidates
from analysis.prom import PromConfig, PromError, Prometheus, safe_url
from analysis.queries import Selector
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_out, add_selector, add_spec
from loadgate.specs import load_spec_or_fail
from reports.write import write_text
from slo import model
from slo.gate import ExitCode
from slo.model import Spec
from slo.spec_write import dump_spec
from slo.units import format_duration

__all__ = ["add_arguments", "run", "gather", "exactness"]

#: How far back the series are looked for.
LOOKBACK_S = 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus base URL")
    add_selector(parser, "label matchers that pick the service's series, e.g. 'job=\"api\"'")
    add_spec(parser)
    add_out(parser, "write a starter loadgate/v1 spec with the mapping found here", metavar="FILE")


def gather(prom: Prometheus, selector: Selector, at: float) -> Inventory:
    """Everything ``assess`` needs, in a bounded number of label queries (no PromQL evaluation)."""
    start = at - LOOKBACK_S
    # Without a selector the names come from the index alone (no match[]: selecting every series is
    # what would be heavy on a large Prometheus).
    scope = [selector.braces()] if selector.matchers else []
    names = tuple(sorted(prom.label_values("__name__", scope, start, at)))
    counters, families = candidates(names)
    labels: dict[str, tuple[str, ...]] = {}
    values: dict[tuple[str, str], tuple[str, ...]] = {}
    for name in counters:
        match = [f"{name}{selector.braces()}"]
        labels[name] = tuple(prom.label_names(match, start, at))
        for label in labels[name]:
            if label in ("__name__", "job", "instance", "le"):
                continue
            found = prom.label_values(label, match, start, at)
            if len(found) <= 50:  # a status label has a handful of values; a route label may have thousands
                values[(name, label)] = tuple(found)
    buckets = {f: tuple(prom.label_values("le", [f"{f}_bucket{selector.braces()}"], start, at)) for f in families}
    up = len(prom.label_values("instance", [f"up{selector.braces()}"], start, at)) if "up" in names else 0
    try:
        metadata = prom.metadata()
    except PromError:
        metadata = {}  # an older or restricted API: the shapes still tell
    return Inventory(names, labels, values, buckets, up, metadata)


def exactness(spec: Spec, found: Findings) -> list[tuple[str, str]]:
    """Per objective: (id, whether the series present can grade it, and why)."""
    out = []
    histogram = next((h for h in found.histograms if found.metrics and h.family == found.metrics.duration), None)
    for o in spec.objectives:
        if found.metrics is None:
            out.append((o.id, "not graded: no HTTP request series"))
        elif o.kind == model.LATENCY:
            if histogram is None:
                out.append((o.id, "not graded: no duration histogram"))
            elif any(abs(b - o.target.value) < 1e-12 for b in histogram.bounds_s):
                out.append((o.id, f"exact: a bucket at {format_duration(o.target.value)}"))
            else:
                pct = f"p{(o.quantile or 0) * 100:g}"
                out.append((o.id, f"not exact: no bucket at {format_duration(o.target.value)}: {pct} "
                                  f"< {format_duration(o.target.value)} is graded only when the quantile is clear "
                                  "of it; add that bucket"))
        elif o.kind == model.CACHE_HIT_RATE:
            ok = found.metrics is not None and found.metrics.cache_hits is not None
            out.append((o.id, "exact: from the cache counters" if ok else
                        "not graded: no cache hit and miss counters (left out of the starter spec)"))
        elif o.kind in (model.ERROR_RATE, model.AVAILABILITY, model.THROUGHPUT):
            out.append((o.id, "exact: from the request counter" + ("" if o.kind != model.AVAILABILITY or
                                                                     found.up_targets else
                                                                     "; no up series, so slices count 5xx only")))
        else:
            out.append((o.id, "its own PromQL: not checked here"))
    return out


def _print(found: Findings, inv: Inventory, where: str, spec: Spec, out: TextIO) -> None:
    out.write(f"{where}: {len(inv.names)} metric names\n")
    out.write("HTTP request counters:\n")
    for c in found.counters:
        shown = ", ".join(c.status_values[:6]) + (" ..." if len(c.status_values) > 6 else "")
        out.write(f"  {c.name}  status label {c.status_label} ({c.status_form}: {shown})\n")
    if not found.counters:
        out.write("  none\n")
    out.write("Duration histograms:\n")
    for h in found.histograms:
        bounds = ", ".join(format_duration(b) for b in h.bounds_s[:12]) + (" ..." if len(h.bounds_s) > 12 else "")
        out.write(f"  {h.family}  unit {h.unit}  {len(h.bounds_s)} buckets: {bounds}\n")
    if not found.histograms:
        out.write("  none\n")
    out.write(f"Cache counters: {', '.join(found.cache) or 'none'}\n")
    out.write(f"up targets: {inv.up_targets}\n")
    if found.preset is not None and found.metrics is not None:
        m = found.metrics
        what = f"preset {found.preset}" if found.preset != "custom" else "no preset: a mapping from the series' shapes"
        out.write(f"Fits: {what} (requests {m.requests}, duration {m.duration} in {m.duration_unit}, "
                  f"status label {m.code_label})\n")
    out.write(f"Objectives of {spec.path}:\n")
    for oid, text in exactness(spec, found):
        out.write(f"  {oid}: {text}\n")


def starter(spec: Spec, found: Findings, selector: str) -> Spec:
    """``spec`` with the mapping found and the ``selector`` that picked the service, less the
    objectives the series cannot feed (cache without counters)."""
    assert found.metrics is not None
    keep = tuple(o for o in spec.objectives if o.kind != model.CACHE_HIT_RATE or found.metrics.cache_hits is not None)
    return dataclasses.replace(spec, name=f"{spec.name}-starter", metrics=found.metrics, objectives=keep,
                               metrics_overrides=(), selector=selector)


def run(args: argparse.Namespace, env: Env) -> int:
    try:
        config = PromConfig.from_env(args.prometheus, env.environ)
        selector = Selector.parse(args.selector)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    spec = load_spec_or_fail(args.spec, args.selector, args.preset)
    if spec.format != "loadgate/v1":
        raise UserError(f"--spec: {spec.path} is {spec.format}; inspect checks the default queries of a "
                        "loadgate/v1 spec")
    prom = Prometheus(config)
    try:
        inv = gather(prom, selector, env.clock())
    except PromError as exc:
        raise UserError(f"cannot inspect {safe_url(config.url)}: {exc}", ExitCode.INCONCLUSIVE) from None
    finally:
        prom.close()
    found = assess(inv)
    where = f"{safe_url(config.url)}{' ' + selector.braces() if selector.matchers else ''}"
    _print(found, inv, where, spec, env.stdout)
    if not found.found_requests:
        some = ", ".join(inv.names[:8]) + (" ..." if len(inv.names) > 8 else "")
        env.stderr.write(f"loadgate: no HTTP request series found (a counter with a status label); found "
                         f"{len(inv.names)} metric names: {some or 'none'}\n")
        return ExitCode.INCONCLUSIVE
    if args.out:
        header = (f"A starter spec from loadgate inspect of {safe_url(config.url)}: check the thresholds, then "
                  f"grade with: loadgate gate --spec {Path(args.out).name} --prometheus URL")
        write_text(Path(args.out), dump_spec(starter(spec, found, args.selector), header=header))
        env.stderr.write(f"loadgate: wrote {args.out}; check it with: loadgate validate {args.out}\n")
    return ExitCode.PASS
