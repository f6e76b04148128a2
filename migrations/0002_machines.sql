CREATE TABLE `machine_operations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`machine_id` integer NOT NULL,
	`machine_owner_id` integer NOT NULL,
	`worker_id` integer,
	`command` text NOT NULL,
	`result` text DEFAULT 'PENDING' NOT NULL,
	`request_datetime` integer NOT NULL,
	`completed_at` integer,
	`detail` text,
	FOREIGN KEY (`machine_id`) REFERENCES `machines`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `machine_operations_machine_id` ON `machine_operations` (`machine_id`,`id`);--> statement-breakpoint
CREATE INDEX `machine_operations_owner_id` ON `machine_operations` (`machine_owner_id`,`id`);--> statement-breakpoint
CREATE INDEX `machine_operations_owner_result` ON `machine_operations` (`machine_owner_id`,`result`,`id`);--> statement-breakpoint
CREATE INDEX `machine_operations_owner_command` ON `machine_operations` (`machine_owner_id`,`command`,`id`);--> statement-breakpoint
CREATE TABLE `machines` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`location` text NOT NULL,
	`status` text DEFAULT 'POWEROFF' NOT NULL,
	`owner_id` integer NOT NULL,
	`controller_url` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `machines_owner_id` ON `machines` (`owner_id`,`id`);--> statement-breakpoint
CREATE INDEX `machines_status_id` ON `machines` (`status`,`id`);