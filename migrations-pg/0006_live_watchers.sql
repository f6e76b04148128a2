CREATE TABLE "live_watchers" (
	"session_id" text NOT NULL,
	"machine_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "live_watchers_session_id_machine_id_pk" PRIMARY KEY("session_id","machine_id")
);
--> statement-breakpoint
ALTER TABLE "live_watchers" ADD CONSTRAINT "live_watchers_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "live_watchers" ADD CONSTRAINT "live_watchers_machine_id_machines_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "live_watchers_user" ON "live_watchers" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "live_watchers_expires" ON "live_watchers" USING btree ("expires_at");