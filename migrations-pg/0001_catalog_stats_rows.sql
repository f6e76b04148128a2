-- Custom: the per-kind counters start at zero (as in the D1 migration 0006_catalog_fts).
INSERT INTO "catalog_stats" ("kind", "total", "version", "available_count", "available_until") VALUES ('exams', 0, 0, 0, 0), ('courses', 0, 0, 0, 0);
