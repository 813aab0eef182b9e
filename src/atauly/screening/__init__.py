"""The proactive scan of the whole registry for families entitled to ASP who have not applied
(issue 6). ``scan`` runs partition by partition, in this process or on Dask."""

from .scan import CANDIDATE_COLUMNS, ScanError, partitions, read_candidates, scan, scan_partition

__all__ = ["CANDIDATE_COLUMNS", "ScanError", "partitions", "read_candidates", "scan", "scan_partition"]
