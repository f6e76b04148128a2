CREATE TABLE `phone_verifications` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`phone` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE INDEX `phone_verifications_expires` ON `phone_verifications` (`expires_at`);