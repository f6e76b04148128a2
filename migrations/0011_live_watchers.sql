CREATE TABLE `live_watchers` (
	`session_id` text NOT NULL,
	`machine_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`session_id`, `machine_id`),
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`machine_id`) REFERENCES `machines`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `live_watchers_user` ON `live_watchers` (`user_id`);--> statement-breakpoint
CREATE INDEX `live_watchers_expires` ON `live_watchers` (`expires_at`);