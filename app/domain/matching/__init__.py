"""Two-way matching of needs and researchers: scoring, stored recommendations, re-match, digests."""
