"""The PromQL side of OpenSLO: queries read as loadgate's ``{{window}}``/``{{selector}}`` templates.

``ratio_template`` turns one side of an OpenSLO ratio (``good``, ``bad`` or ``total``) into the
template that counts it over a window; ``query_back`` is its reverse, for writing OpenSLO.
``plain_selector`` tells a vector selector from an expression, and ``refuse_selector`` says when a
selector would have to be added to literal PromQL, which loadgate never rewrites.
"""

from __future__ import annotations

import re

from analysis.queries import SelectorError, parse_selector
from slo.model import Spec

__all__ = ["plain_selector", "ratio_template", "refuse_selector", "query_back"]

_PLAIN_RE = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$", re.S)


def plain_selector(query: str) -> tuple[str, str] | None:
    """``(metric, matchers)`` when ``query`` is one vector selector (``metric{a="b"}``, ``{__name__=~"x"}``),
    else None. The matchers are returned as written, checked by ``analysis.queries``."""
    match = _PLAIN_RE.match(query)
    if not match or not (match.group(1) or match.group(2)):
        return None
    inner = (match.group(2) or "").strip()
    try:
        parse_selector(inner)
    except SelectorError:
        return None
    return match.group(1) or "", inner


def ratio_template(query: str, counter: bool) -> tuple[str, str, bool]:
    """``(template, note, takes_selector)``: the PromQL template (``{{window}}``, ``{{selector}}``)
    counting one side of a ratio over the window, what is approximate about it (empty when exact),
    and whether the gate's selector can be added to it."""
    plain = plain_selector(query)
    if plain is not None:
        fn = "increase" if counter else "sum_over_time"
        names = _name_alternatives(plain[1])
        if names is not None:
            # increase() drops the metric name, so two names' series would collide: one sum per name.
            # A name with no series counts 0 ('or vector(0)'), so the total is never lost to one of them.
            rest = ", ".join(m.render() for m in parse_selector(plain[1]) if m.name != "__name__")
            terms = [f"(sum({fn}({name}{{{rest + ', ' if rest else ''}{{{{selector}}}}}}[{{{{window}}}}])) "
                     "or vector(0))" for name in names]
            template = " + ".join(terms)
        else:
            metric, inner = plain
            matchers = f"{inner}, {{{{selector}}}}" if inner else "{{selector}}"
            template = f"sum({fn}({metric}{{{matchers}}}[{{{{window}}}}]))"
        if counter:
            return template, "", True
        return (template,
                "counter: false: the gauge's samples are summed over the window (sum_over_time), so the ratio "
                "is weighted by samples and 'events' counts sample values, not requests", True)
    if counter:
        return (f"sum(increase(({query})[{{{{window}}}}:]))",
                "read through a subquery at Prometheus's evaluation interval (increase((query)[window:])): "
                "counter resets inside an aggregation and the subquery's steps make it approximate", False)
    return (f"sum(sum_over_time(({query})[{{{{window}}}}:]))",
            "read through a subquery at Prometheus's evaluation interval (sum_over_time((query)[window:])): "
            "the ratio is weighted by evaluation steps, and 'events' counts summed values, not requests", False)


def _name_alternatives(inner: str) -> list[str] | None:
    """The metric names of a ``__name__=~"a|b"`` matcher that lists plain names, else None."""
    for m in parse_selector(inner):
        if m.name == "__name__" and m.op == "=~":
            names = m.value.split("|")
            if len(names) > 1 and all(re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", n) for n in names):
                return names
    return None


def refuse_selector(spec: Spec, selector: str, flag: str) -> str | None:
    """The error to give when ``selector`` (from ``flag``) would have to be added to an objective's
    literal PromQL, which loadgate does not rewrite; None when every objective takes it."""
    if not selector.strip():
        return None
    literal = [o for o in spec.objectives if not o.takes_selector]
    if not literal:
        return None
    names = ", ".join(f"{o.id} ({o.origin})" for o in literal)
    return (f"{flag} {selector!r} cannot be added to the literal PromQL of {names}: loadgate adds selectors to "
            "plain vector selectors only (metric{...}), never rewrites an expression; write the matchers into "
            "the query, or drop the selector")


_BACK = [(re.compile(r"^sum\(increase\((?P<q>.*)\[\{\{window\}\}\]\)\)$", re.S), True, False),
         (re.compile(r"^sum\(sum_over_time\((?P<q>.*)\[\{\{window\}\}\]\)\)$", re.S), False, False),
         (re.compile(r"^sum\(increase\(\((?P<q>.*)\)\[\{\{window\}\}:\]\)\)$", re.S), True, True),
         (re.compile(r"^sum\(sum_over_time\(\((?P<q>.*)\)\[\{\{window\}\}:\]\)\)$", re.S), False, True)]


_TERM_RE = re.compile(r"^\(sum\((?P<fn>increase|sum_over_time)\((?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
                      r"\{(?P<rest>.*?)\{\{selector\}\}\}\[\{\{window\}\}\]\)\) or vector\(0\)\)$")


def query_back(template: str) -> tuple[str, bool] | None:
    """The OpenSLO query and counter flag behind a template ``ratio_template`` wrote, else None."""
    terms = [_TERM_RE.match(t.strip()) for t in template.split(" + ")]
    if len(terms) > 1 and all(terms):
        found = [t for t in terms if t is not None]
        rests = {t.group("rest").strip().rstrip(",").strip() for t in found}
        fns = {t.group("fn") for t in found}
        if len(rests) == 1 and len(fns) == 1:
            rest = rests.pop()
            names = "|".join(t.group("name") for t in found)
            return f'{{__name__=~"{names}"{", " + rest if rest else ""}}}', fns.pop() == "increase"
    for pattern, counter, literal in _BACK:
        match = pattern.match(template.strip())
        if match:
            query = match.group("q")
            if not literal:
                query = re.sub(r"\{\s*\{\{selector\}\}\s*\}$", "", query)
                query = re.sub(r",\s*\{\{selector\}\}\s*\}$", "}", query)
                if "{{" in query:
                    return None
            return query, counter
    return None
