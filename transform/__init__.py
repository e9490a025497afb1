"""From reader blocks to canonical long-format records: sections, labels, values, metadata, checks."""

EXTRACTOR_VERSION = "0.1.0"
