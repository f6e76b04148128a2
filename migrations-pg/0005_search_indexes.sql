-- Custom line: pg_trgm (Debian's postgresql-contrib; a trusted extension, so the database owner may create it) for the machines `search` indexes below.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "machines_name_trgm" ON "machines" USING gin (lower("name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "machines_location_trgm" ON "machines" USING gin (lower("location") gin_trgm_ops);
