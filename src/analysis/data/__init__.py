"""Data entry: the contract (schema), readers (io), repairs (quality), loading (load) and
the synthetic sample (sample)."""

from .load import Dataset, load_dataset
from .quality import DataQualityReport

__all__ = ["DataQualityReport", "Dataset", "load_dataset"]
