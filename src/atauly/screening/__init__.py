"""The proactive scan of the whole registry for families entitled to ASP who have not applied
(issue 6). ``scan`` runs partition by partition, in this process or on Dask."""

from .columns import CANDIDATE_COLUMNS, DISTRICT_SUMMARY_COLUMNS
from .partition import ScanError, read_partition, scan_partition
from .scan import partitions, read_candidates, scan

__all__ = [
    "CANDIDATE_COLUMNS",
    "DISTRICT_SUMMARY_COLUMNS",
    "ScanError",
    "partitions",
    "read_candidates",
    "read_partition",
    "scan",
    "scan_partition",
]
