CREATE TABLE `catalog_stats` (
	`kind` text PRIMARY KEY NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`available_count` integer DEFAULT 0 NOT NULL,
	`available_until` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `courses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`price` integer NOT NULL,
	`start_at` integer NOT NULL,
	`end_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`registration_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `courses_created` ON `courses` (`id`,`start_at`,`end_at`);--> statement-breakpoint
CREATE INDEX `courses_popular` ON `courses` (`registration_count`,`id`,`start_at`,`end_at`);--> statement-breakpoint
CREATE INDEX `courses_period` ON `courses` (`end_at`,`start_at`);--> statement-breakpoint
CREATE INDEX `courses_start` ON `courses` (`start_at`);--> statement-breakpoint
CREATE TABLE `exams` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`price` integer NOT NULL,
	`start_at` integer NOT NULL,
	`end_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`registration_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `exams_created` ON `exams` (`id`,`start_at`,`end_at`);--> statement-breakpoint
CREATE INDEX `exams_popular` ON `exams` (`registration_count`,`id`,`start_at`,`end_at`);--> statement-breakpoint
CREATE INDEX `exams_period` ON `exams` (`end_at`,`start_at`);--> statement-breakpoint
CREATE INDEX `exams_start` ON `exams` (`start_at`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`user_id` integer NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`response_status` integer,
	`response_body` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `payments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`payment_type` text NOT NULL,
	`target_id` integer NOT NULL,
	`target_title` text NOT NULL,
	`amount` integer NOT NULL,
	`payment_method` text NOT NULL,
	`status` text NOT NULL,
	`external_transaction_id` text NOT NULL,
	`transaction_metadata` text NOT NULL,
	`paid_at` integer NOT NULL,
	`cancelled_at` integer,
	`refund_reason` text
);
--> statement-breakpoint
CREATE INDEX `payments_user_paid` ON `payments` (`user_id`,`paid_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `payments_external_tx` ON `payments` (`external_transaction_id`);--> statement-breakpoint
CREATE TABLE `registrations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`kind` text NOT NULL,
	`item_id` integer NOT NULL,
	`status` text NOT NULL,
	`payment_id` integer NOT NULL,
	`applied_at` integer NOT NULL,
	`completed_at` integer,
	`cancelled_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `registrations_user_item` ON `registrations` (`user_id`,`kind`,`item_id`);