"""Manufacturing pass/fail station: measurement records, the results store and lot statistics."""
