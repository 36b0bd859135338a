"""Join fingerprints, turn hits into verified spans, measure each copy."""
