"""Reading a host: the pieces every part's fact is made of (paths, parallel probes,
tagged lines) and the facts that belong to no part (sudo, an HTTP answer)."""
