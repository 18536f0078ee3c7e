"""The reference service under test: the seed's API (tiers, cache, batch, pagination) as a real HTTP server."""
