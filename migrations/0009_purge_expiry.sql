ALTER TABLE `rate_limits` ADD `expires_at` integer;--> statement-breakpoint
-- Hand-written: rows from before the column get the longest default window (30 days, LOGIN_KNOWN_ADDRESS_DAYS), so
-- the purge never deletes a live mark early; a shorter window's row is merely kept longer.
UPDATE `rate_limits` SET `expires_at` = `window_start` + 2592000000 WHERE `expires_at` IS NULL;--> statement-breakpoint
CREATE INDEX `rate_limits_expires` ON `rate_limits` (`expires_at`);--> statement-breakpoint
CREATE INDEX `sessions_expires` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `sessions_revoked` ON `sessions` (`revoked_at`);--> statement-breakpoint
CREATE INDEX `machine_operations_completed` ON `machine_operations` (`completed_at`);--> statement-breakpoint
CREATE INDEX `idempotency_keys_expires` ON `idempotency_keys` (`expires_at`);