DROP INDEX `payments_settle`;--> statement-breakpoint
DROP INDEX `payments_refund_requested`;--> statement-breakpoint
CREATE INDEX `payments_settle` ON `payments` (`expires_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `payments_refund_requested` ON `payments` (`refund_requested_at`) WHERE refund_requested_at IS NOT NULL;