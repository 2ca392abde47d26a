"""newslake: news outlets' web pages into a validated, partitioned Parquet corpus."""

__version__ = "0.1.0"
