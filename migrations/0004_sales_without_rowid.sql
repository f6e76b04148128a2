-- Custom: drizzle-kit cannot declare WITHOUT ROWID. These tables are only ever read by their primary
-- key; without a rowid the primary key index is the table, so a seek reads one b-tree instead of an
-- index and then the table.
DROP TABLE `customer_hours`;--> statement-breakpoint
CREATE TABLE `customer_hours` (
	`customer_id` integer NOT NULL,
	`hour` integer NOT NULL,
	`orders` integer NOT NULL,
	PRIMARY KEY(`customer_id`, `hour`)
) WITHOUT ROWID;--> statement-breakpoint
DROP TABLE `product_sales`;--> statement-breakpoint
CREATE TABLE `product_sales` (
	`product_id` integer NOT NULL,
	`hour` integer NOT NULL,
	`quantity` integer NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`product_id`, `hour`)
) WITHOUT ROWID;--> statement-breakpoint
DROP TABLE `product_checkpoints`;--> statement-breakpoint
CREATE TABLE `product_checkpoints` (
	`hour` integer NOT NULL,
	`product_id` integer NOT NULL,
	`quantity` integer NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`hour`, `product_id`)
) WITHOUT ROWID;
