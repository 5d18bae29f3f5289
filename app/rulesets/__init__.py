"""Rule sets: the document format, validation, digests, layering and resolution."""
