"""One pipeline per report: ``build(data, period, params, *, shared=None) -> <Report>Result``.

A pipeline takes the unit's clean :class:`~analysis.data.load.Dataset`, the report
:class:`~analysis.period.Period` and the merged parameters, and returns a frozen result of
DataFrames and numbers. It takes no report context, displays nothing and writes no file;
the views in :mod:`analysis.report.views` only show parts of its result. ``shared`` is an
optional :class:`~analysis.pipelines.shared.SharedWork`: work that several reports of a
unit need (customer features, the value snapshot, the unit's figures) is computed once
through it. It changes how fast a result comes, never the result.
"""
