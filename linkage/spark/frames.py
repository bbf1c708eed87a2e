"""Tables in and out of Spark: the engine's inputs as pandas, pandas tables as Spark DataFrames.

The records come to the driver in their input order, which fixes every record's position
(and with it the tie-breaks of the clustering), exactly as the local engine reads them:
a pandas DataFrame as it is, a Parquet path with pandas (pyarrow), a Spark DataFrame in the
order ``toPandas`` returns it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from linkage.errors import LinkageError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

__all__ = ["is_spark_frame", "spark_schema", "to_pandas", "to_spark"]


def is_spark_frame(table: object) -> bool:
    """True for a pyspark DataFrame (classic or Spark Connect), without importing pyspark."""
    return any(
        cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.sql")
        for cls in type(table).__mro__
    )


def to_pandas(table: Any, what: str) -> pd.DataFrame | None:
    """``table`` (None, a pandas DataFrame, a Parquet path, or a Spark DataFrame) as pandas.

    Raises
    ------
    LinkageError
        When ``table`` is none of these, or the Parquet file cannot be read.
    """
    if table is None or isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (str, os.PathLike)):
        try:
            return pd.read_parquet(table)
        except (OSError, ValueError, ImportError, pa.ArrowException) as exc:
            raise LinkageError(
                f"{what}: cannot read the Parquet data at the given path ({type(exc).__name__}); for a "
                "location only Spark can read (s3a://, abfss://), pass spark.read.parquet(...) instead"
            ) from None
    if is_spark_frame(table):
        return table.toPandas()
    raise LinkageError(f"{what}: expected a pandas DataFrame, a Parquet path or a Spark DataFrame")


def _spark_type(column: str, values: pd.Series) -> DataType:
    from pyspark.sql.types import (
        ArrayType,
        BooleanType,
        ByteType,
        DateType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        ShortType,
        StringType,
    )

    dtype = values.dtype
    simple = {
        "float64": DoubleType(),
        "float32": FloatType(),
        "int64": LongType(),
        "int32": IntegerType(),
        "int16": ShortType(),
        "int8": ByteType(),
        "bool": BooleanType(),
    }
    if str(dtype) in simple:
        return simple[str(dtype)]
    try:
        arrow = pa.array(values.to_numpy(dtype=object), from_pandas=True).type
    except (pa.ArrowException, TypeError, ValueError):
        arrow = None
    if arrow is not None:
        if pa.types.is_null(arrow) or pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
            return StringType()
        if (pa.types.is_list(arrow) or pa.types.is_large_list(arrow)) and (
            pa.types.is_string(arrow.value_type)
            or pa.types.is_large_string(arrow.value_type)
            or pa.types.is_null(arrow.value_type)
        ):
            return ArrayType(StringType())
        if pa.types.is_integer(arrow):
            return LongType()
        if pa.types.is_floating(arrow):
            return DoubleType()
        if pa.types.is_boolean(arrow):
            return BooleanType()
        if pa.types.is_date32(arrow):
            return DateType()
    raise LinkageError(
        f"prepared column {column!r} holds values the Spark engine cannot stage "
        f"({arrow if arrow is not None else dtype}); it stages text, numbers, dates and lists of text"
    )


def spark_schema(frame: pd.DataFrame) -> StructType:
    """The Spark schema of a pandas table (object columns typed by what they hold)."""
    from pyspark.sql.types import StructField, StructType

    return StructType([StructField(str(c), _spark_type(str(c), frame[c]), True) for c in frame.columns])


def to_spark(spark: SparkSession, frame: pd.DataFrame, schema: StructType | None = None) -> DataFrame:
    """A pandas table as a Spark DataFrame (through Arrow); NaN becomes null.

    Lists held as numpy arrays become Python lists first: that is the form Arrow takes
    without guessing.
    """
    schema = schema or spark_schema(frame)
    from pyspark.sql.types import ArrayType

    frame = frame.copy(deep=False)
    for f in schema.fields:
        if isinstance(f.dataType, ArrayType):
            frame[f.name] = pd.Series(
                [
                    list(v) if isinstance(v, (list, tuple, np.ndarray)) else None
                    for v in frame[f.name].to_numpy(dtype=object)
                ],
                index=frame.index,
                dtype=object,
            )
    return spark.createDataFrame(frame, schema=schema)
