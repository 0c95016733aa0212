"""Reference data (regions, zones, the taxonomy, categories, rounds) and its idempotent loading."""
