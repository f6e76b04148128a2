ALTER TABLE `payments` ADD `provider` text DEFAULT 'simulated' NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `reference` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `payments` ADD `checkout` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `refund_requested_at` integer;--> statement-breakpoint
CREATE INDEX `payments_settle` ON `payments` (`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `payments_refund_requested` ON `payments` (`refund_requested_at`);