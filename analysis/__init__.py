"""Where SLIs come from (source: the protocol; prom_source, client_source) and their maths (sli, queries)."""
