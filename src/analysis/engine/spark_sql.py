"""DuckDB SQL to Spark SQL: sqlglot's transpiler plus an override table.

The heavy step is written once in DuckDB SQL. sqlglot (pinned exactly in pyproject.toml)
translates the syntax; a few constructs exist in both dialects under the same or a
similar name but *mean* something else, and sqlglot either keeps the name or maps it
wrongly. Each of those has one explicit rewrite here, applied to the parsed DuckDB tree
before Spark SQL is generated, and one regression test (unit test of the rewrite in
``tests/spark/test_spark_sql.py``; value on Spark against DuckDB in the ``spark`` lane).

=================  ==========================================  =================================
construct          DuckDB meaning                              Spark rewrite
=================  ==========================================  =================================
quantile_cont      linear interpolation (type 7)               ``PERCENTILE(x, q)``
median             quantile_cont(x, 0.5)                       ``PERCENTILE(x, 0.5)``
quantile_disc,     first value whose cumulative share >= q     ``PERCENTILE_DISC(q) WITHIN
quantile                                                       GROUP (ORDER BY x)``
CAST(x AS int)     rounds: DOUBLE half to even, DECIMAL half    ``CAST(BROUND(x) AS ...)`` /
                   away from zero                              ``CAST(ROUND(x) AS ...)``
date_diff(unit)    counts calendar boundaries crossed           day: ``DATEDIFF(CAST(b AS DATE),
                   (Jan 31 -> Feb 1 is one month)              CAST(a AS DATE))``; month, quarter,
                                                               year: year/month arithmetic
dayofweek          0 = Sunday .. 6 = Saturday                  ``DAYOFWEEK(x) - 1``
isodow             1 = Monday .. 7 = Sunday                    ``WEEKDAY(x) + 1``
a / b              always DOUBLE division (also DECIMAL)       ``CAST(a AS DOUBLE) / CAST(b AS
                                                               DOUBLE)``
stddev, variance   the *sample* statistics                     ``STDDEV_SAMP`` / ``VAR_SAMP``
                                                               (``_POP`` kept; both engines use
                                                               one-pass updates, so results agree
                                                               to rounding, not bit for bit)
=================  ==========================================  =================================

Other date_diff units (week, hour, ...) raise :class:`UnsupportedSQL` rather than
silently giving a different number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlglot
from sqlglot import exp

from ..errors import AnalysisError

__all__ = [
    "OVERRIDES",
    "UNSAFE_IN_SPARK",
    "UnsupportedSQL",
    "to_spark",
    "unsafe_constructs",
]


class UnsupportedSQL(AnalysisError):
    """A DuckDB construct that has no rewrite with the same meaning in Spark SQL."""


_INTEGER_TYPES = {
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
}
_DECIMAL_TYPES = {exp.DataType.Type.DECIMAL}


def _percentile(node: exp.Expression) -> exp.Expression:
    quantile = exp.Literal.number("0.5") if isinstance(node, exp.Median) else _fraction(node)
    return exp.Anonymous(this="PERCENTILE", expressions=[node.this.copy(), quantile])


def _fraction(node: exp.Expression) -> exp.Expression:
    found = node.args.get("expression") or node.args.get("quantile")
    if found is None or isinstance(found, exp.Array | exp.Tuple):
        raise UnsupportedSQL(f"{node.sql('duckdb')}: give one quantile per call")
    return found.copy()


def _percentile_disc(node: exp.Expression) -> exp.Expression:
    ordered = exp.Order(expressions=[exp.Ordered(this=node.this.copy(), nulls_first=False)])
    function = exp.Anonymous(this="PERCENTILE_DISC", expressions=[_fraction(node)])
    return exp.WithinGroup(this=function, expression=ordered)


def _integer_cast(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.Cast) or node.to.this not in _INTEGER_TYPES:
        return node
    operand = node.this
    typed = node.meta.get("operand_type")
    known = typed.this if typed is not None else exp.DataType.Type.UNKNOWN
    if isinstance(operand, exp.Literal) and not operand.is_string:
        # DuckDB reads 2.5 as a DECIMAL literal, 3 as an integer.
        known = next(iter(_DECIMAL_TYPES if "." in operand.name else _INTEGER_TYPES))
    if known in _INTEGER_TYPES:
        return node
    rounding = "ROUND" if known in _DECIMAL_TYPES else "BROUND"
    rounded = exp.Anonymous(this=rounding, expressions=[operand.copy()])
    return exp.Cast(this=rounded, to=node.to.copy())


def _date_diff(node: exp.Expression) -> exp.Expression:
    # sqlglot's DateDiff: this = end, expression = start.
    unit = (node.unit.name if node.unit is not None else "DAY").upper()
    end, start = node.this, node.expression
    if unit in ("DAY", "DAYS", "D"):
        return exp.Anonymous(
            this="DATEDIFF",
            expressions=[exp.cast(end.copy(), "DATE"), exp.cast(start.copy(), "DATE")],
        )

    def part(name: str, value: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=[value.copy()])

    years = exp.Paren(this=exp.Sub(this=part("YEAR", end), expression=part("YEAR", start)))
    if unit in ("YEAR", "YEARS", "Y"):
        return years
    per_year, inner = {"MONTH": (12, "MONTH"), "QUARTER": (4, "QUARTER")}.get(
        unit.rstrip("S"), (0, "")
    )
    if not per_year:
        raise UnsupportedSQL(
            f"date_diff('{unit.lower()}', ...) has no Spark rewrite with DuckDB's meaning "
            "(supported: day, month, quarter, year)"
        )
    return exp.Paren(
        this=exp.Add(
            this=exp.Mul(this=years, expression=exp.Literal.number(per_year)),
            expression=exp.Paren(
                this=exp.Sub(this=part(inner, end), expression=part(inner, start))
            ),
        )
    )


def _day_of_week(node: exp.Expression) -> exp.Expression:
    spark = exp.Anonymous(this="DAYOFWEEK", expressions=[node.this.copy()])
    return exp.Paren(this=exp.Sub(this=spark, expression=exp.Literal.number(1)))


def _iso_day_of_week(node: exp.Expression) -> exp.Expression:
    spark = exp.Anonymous(this="WEEKDAY", expressions=[node.this.copy()])
    return exp.Paren(this=exp.Add(this=spark, expression=exp.Literal.number(1)))


def _division(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.IntDiv):
        return node
    return exp.Div(
        this=exp.cast(node.this.copy(), "DOUBLE"),
        expression=exp.cast(node.expression.copy(), "DOUBLE"),
    )


def _sample_statistic(node: exp.Expression) -> exp.Expression:
    name = "STDDEV_SAMP" if isinstance(node, exp.Stddev) else "VAR_SAMP"
    return exp.Anonymous(this=name, expressions=[node.this.copy()])


#: The override table: sqlglot node type (as parsed from DuckDB) -> (what differs, rewrite).
OVERRIDES: dict[type[exp.Expression], tuple[str, Callable[[exp.Expression], exp.Expression]]] = {
    exp.PercentileCont: ("quantile_cont: Spark's 2-argument form fails", _percentile),
    exp.Median: ("median: made explicit as the interpolated 0.5 quantile", _percentile),
    exp.PercentileDisc: ("quantile_disc: Spark needs WITHIN GROUP", _percentile_disc),
    exp.Quantile: ("quantile is quantile_disc in DuckDB, not interpolated", _percentile_disc),
    exp.Cast: ("CAST to an integer: DuckDB rounds, Spark truncates", _integer_cast),
    exp.DateDiff: ("date_diff: calendar boundaries, not elapsed units", _date_diff),
    exp.DayOfWeek: ("dayofweek: 0-6 in DuckDB, 1-7 in Spark", _day_of_week),
    exp.DayOfWeekIso: ("isodow: sqlglot's mapping is off by one for Spark", _iso_day_of_week),
    exp.Div: ("division: DuckDB always divides in DOUBLE, Spark keeps DECIMAL", _division),
    exp.Stddev: ("stddev is the sample statistic: made explicit", _sample_statistic),
    exp.Variance: ("variance is the sample statistic: made explicit", _sample_statistic),
}

#: Spark SQL functions that must not appear in a transpiled query: each would mean something
#: else than the DuckDB original (or fail), so their presence means an override was missed.
UNSAFE_IN_SPARK = (
    "PERCENTILE_CONT",
    "QUANTILE",
    "QUANTILE_CONT",
    "QUANTILE_DISC",
    "MEDIAN",
    "STD",
    "STDDEV",
    "VARIANCE",
    "ISODOW",
    "TIMESTAMPDIFF",
    "DATE_DIFF",
)


def _annotate(tree: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None):
    """Types for the integer-cast rewrite (which rounding DuckDB applies)."""
    from sqlglot.optimizer.annotate_types import annotate_types  # noqa: PLC0415
    from sqlglot.optimizer.qualify import qualify  # noqa: PLC0415

    try:
        qualified = qualify(
            tree.copy(),
            schema=dict(schema or {}),
            dialect="duckdb",
            quote_identifiers=False,
            validate_qualify_columns=False,
            identify=False,
        )
        return annotate_types(qualified, schema=dict(schema or {}), dialect="duckdb")
    except sqlglot.errors.SqlglotError:
        return None


def to_spark(sql: str, *, schema: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """Transpile one DuckDB query to Spark SQL with the :data:`OVERRIDES` applied.

    Parameters
    ----------
    sql
        One DuckDB SQL statement; values must be literals (no ``$name`` parameters).
    schema
        ``{table: {column: DuckDB type}}`` of the tables the query reads; it lets the
        integer-cast rewrite pick DuckDB's rounding (DECIMAL: half away from zero,
        otherwise half to even). Without it an unknown operand is rounded half to even.

    Returns
    -------
    str
        Spark SQL for :meth:`pyspark.sql.SparkSession.sql`.

    Raises
    ------
    UnsupportedSQL
        The query uses a construct without a rewrite of the same meaning.

    Examples
    --------
    >>> to_spark("SELECT dayofweek(d) AS w FROM t")
    'SELECT (DAYOFWEEK(d) - 1) AS w FROM t'
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    if any(isinstance(node, exp.Cast) for node in tree.walk()):
        typed = _annotate(tree, schema)
        if typed is not None:
            # qualify() keeps the casts in walk order; carry their operand types over.
            casts = [n for n in tree.walk() if isinstance(n, exp.Cast)]
            typed_casts = [n for n in typed.walk() if isinstance(n, exp.Cast)]
            if len(casts) == len(typed_casts):
                for plain, annotated in zip(casts, typed_casts, strict=True):
                    plain.meta["operand_type"] = annotated.this.type
    return _rewrite(tree).sql(dialect="spark")


def _rewrite(node: exp.Expression) -> exp.Expression:
    """Apply :data:`OVERRIDES` bottom-up (a rewrite sees its operands rewritten)."""
    for child in list(node.iter_expressions()):
        new = _rewrite(child)
        if new is not child:
            child.replace(new)
    entry = OVERRIDES.get(type(node))
    return entry[1](node) if entry else node


def unsafe_constructs(spark_sql: str) -> list[str]:
    """Calls of :data:`UNSAFE_IN_SPARK` functions (and DATEDIFF with a unit, which is
    Spark's elapsed-time difference) in ``spark_sql``; empty when the query is safe."""
    tokens = sqlglot.tokenize(spark_sql, read="spark")
    found = [
        token.text.upper()
        for token, following in zip(tokens, tokens[1:], strict=False)
        if following.token_type == sqlglot.TokenType.L_PAREN
        and token.text.upper() in UNSAFE_IN_SPARK
    ]
    tree = sqlglot.parse_one(spark_sql, read="spark")
    found += [
        f"DATEDIFF({node.unit.name})"
        for node in tree.walk()
        if isinstance(node, exp.DateDiff) and node.unit is not None
    ]
    return found
