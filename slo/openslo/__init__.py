"""OpenSLO v1 documents (``apiVersion: openslo/v1``) read into loadgate's model, and back.

``load_openslo(files)`` parses a set of files (each in any form the OpenSLO tools write: YAML
documents separated by ``---``, a YAML list of documents, JSON objects or lists) holding any of
the seven v1 kinds, checks every document by OpenSLO's own rules and raises ``SpecError`` listing
every violation located as ``file:line: KIND/name.field.path: message``, each message naming the
rule it breaks. SLOs are graded; ``Service``, ``AlertPolicy``, ``AlertCondition`` and
``AlertNotificationTarget`` documents (and SLIs no SLO uses) are checked, read and noted in
``Spec.notes``. One objective of an SLO becomes one loadgate objective, its id
``metadata.name`` (``-`` and ``.`` become ``_``), plus the objective's ``displayName`` when the
SLO has several.

How each indicator is graded (``Objective.note`` says so whenever it is not exact):

* ``ratioMetric`` with ``counter: true`` and a plain vector selector (``metric{a="b"}``): read
  with ``sum(increase(SELECTOR[window]))``, exactly, and the gate's selector is added to its
  matchers. Any other query is read through a subquery at Prometheus's evaluation interval
  (``increase((Q)[window:])`` for counters, ``sum_over_time((Q)[window:])`` for gauges) and the
  approximation is stated. A selector (``--selector`` or the spec's) cannot be added to such a
  literal expression: ``refuse_selector`` makes that an error instead of ignoring it.
* ``thresholdMetric`` with ``op`` and ``value``: the share of the query's points (one a scrape
  interval) that meet the comparison (``Occurrences``); of ``timeSliceWindow`` slices whose share
  of such points reaches ``timeSliceTarget`` (``Timeslices``); the mean of the slices' shares
  (``RatioTimeslices``).
* ``budgetingMethod: Timeslices`` of a ratio: the share of ``timeSliceWindow`` slices whose own
  good ratio is at least ``timeSliceTarget``; ``RatioTimeslices``: the mean of the slices' ratios.

``to_openslo(spec)`` writes the reverse: each loadgate objective as an SLO over ratio queries of
loadgate's metric contract (or the spec's metric names), where OpenSLO can say it.

The package, by job: ``documents`` (one file's documents in every form, their envelope, the field
rules the kinds share), ``read`` (a set of files to one ``Spec``), ``indicator`` (an SLI's rules,
then what loadgate grades of it), ``slo_spec`` (an SLO's rules), ``objective`` (one SLO objective
to one ``Objective``), ``kinds`` (the kinds loadgate reads but does not grade), ``queries``
(OpenSLO queries as PromQL templates, and back) and ``write`` (``to_openslo``). OpenSLO's
durations are read and written by ``slo.units`` (``parse_openslo_duration``,
``format_openslo_duration``).
"""

from slo.openslo.documents import API_VERSION, is_openslo
from slo.openslo.queries import plain_selector, ratio_template, refuse_selector
from slo.openslo.read import load_openslo
from slo.openslo.write import ConvertError, to_openslo

__all__ = ["API_VERSION", "is_openslo", "load_openslo", "plain_selector", "ratio_template", "refuse_selector",
           "to_openslo", "ConvertError"]
