ALTER TABLE `products` ADD `sold_quantity` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `products` ADD `sold_amount` integer DEFAULT 0 NOT NULL;