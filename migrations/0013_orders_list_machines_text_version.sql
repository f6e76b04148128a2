CREATE TABLE `machines_text_version` (
	`id` integer PRIMARY KEY NOT NULL,
	`version` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `orders_created` ON `orders` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `orders_customer_created` ON `orders` (`customer_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `orders_status_created` ON `orders` (`status`,`created_at`,`id`);--> statement-breakpoint
-- Hand-written (drizzle-kit has no triggers): the one row, and the triggers that move it whenever the
-- text a machines search reads changes. Status changes (every command) do not fire them.
INSERT INTO `machines_text_version` (`id`, `version`) VALUES (1, 0);
--> statement-breakpoint
CREATE TRIGGER `machines_text_version_ai` AFTER INSERT ON `machines` BEGIN
  UPDATE machines_text_version SET version = version + 1 WHERE id = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `machines_text_version_ad` AFTER DELETE ON `machines` BEGIN
  UPDATE machines_text_version SET version = version + 1 WHERE id = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `machines_text_version_au` AFTER UPDATE OF name, location ON `machines` BEGIN
  UPDATE machines_text_version SET version = version + 1 WHERE id = 1;
END;
