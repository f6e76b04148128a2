CREATE TABLE "machines_text_version" (
	"id" bigint PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "orders_created" ON "orders" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "orders_customer_created" ON "orders" USING btree ("customer_id","created_at","id");--> statement-breakpoint
CREATE INDEX "orders_status_created" ON "orders" USING btree ("status","created_at","id");--> statement-breakpoint
-- Hand-written (drizzle-kit has no triggers): the one row, and a statement-level trigger that moves it
-- whenever the text a machines search reads changes. Status changes (every command) do not fire it.
INSERT INTO "machines_text_version" ("id", "version") VALUES (1, 0);
--> statement-breakpoint
CREATE FUNCTION machines_text_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE machines_text_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER machines_text_version_changed AFTER INSERT OR DELETE OR UPDATE OF name, location ON machines
  FOR EACH STATEMENT EXECUTE FUNCTION machines_text_version_bump();
