ALTER TABLE "payments" ADD COLUMN "provider" text DEFAULT 'simulated' NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "reference" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "expires_at" bigint;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "checkout" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refund_requested_at" bigint;--> statement-breakpoint
CREATE INDEX "payments_settle" ON "payments" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "payments_refund_requested" ON "payments" USING btree ("refund_requested_at");