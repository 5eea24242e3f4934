"""The TimeSHAP release whose API ``seqshap.timeshap`` mirrors (``timeshap.__version__``)."""

__version__ = "1.0.4"
__version_info__ = tuple(__version__.split("."))
