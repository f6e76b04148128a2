-- Every stored sales figure stays a number JSON carries exactly (src/db/schema/sales.ts): sales_hours
-- gets its CHECK by drizzle-kit's rebuild (no foreign key points at it); products cannot be rebuilt
-- on D1 (order_items references it), so triggers refuse a sold_amount above 2^53 - 1 instead.
CREATE TABLE `__new_sales_hours` (
	`hour` integer PRIMARY KEY NOT NULL,
	`total_amount` integer DEFAULT 0 NOT NULL,
	`order_count` integer DEFAULT 0 NOT NULL,
	`coupon_amount` integer DEFAULT 0 NOT NULL,
	`first_purchase_count` integer DEFAULT 0 NOT NULL,
	`first_purchase_amount` integer DEFAULT 0 NOT NULL,
	`c0` integer DEFAULT 0 NOT NULL,
	`c1` integer DEFAULT 0 NOT NULL,
	`c2` integer DEFAULT 0 NOT NULL,
	`c3` integer DEFAULT 0 NOT NULL,
	`c4` integer DEFAULT 0 NOT NULL,
	`c5` integer DEFAULT 0 NOT NULL,
	`c6` integer DEFAULT 0 NOT NULL,
	`c7` integer DEFAULT 0 NOT NULL,
	`c8` integer DEFAULT 0 NOT NULL,
	`c9` integer DEFAULT 0 NOT NULL,
	`c10` integer DEFAULT 0 NOT NULL,
	`c11` integer DEFAULT 0 NOT NULL,
	`c12` integer DEFAULT 0 NOT NULL,
	`c13` integer DEFAULT 0 NOT NULL,
	`c14` integer DEFAULT 0 NOT NULL,
	`c15` integer DEFAULT 0 NOT NULL,
	`c16` integer DEFAULT 0 NOT NULL,
	`c17` integer DEFAULT 0 NOT NULL,
	`c18` integer DEFAULT 0 NOT NULL,
	`c19` integer DEFAULT 0 NOT NULL,
	`c20` integer DEFAULT 0 NOT NULL,
	`c21` integer DEFAULT 0 NOT NULL,
	`c22` integer DEFAULT 0 NOT NULL,
	`c23` integer DEFAULT 0 NOT NULL,
	`c24` integer DEFAULT 0 NOT NULL,
	CONSTRAINT "sales_hours_amounts_exact" CHECK("__new_sales_hours"."total_amount" <= 281474976710656 AND "__new_sales_hours"."coupon_amount" <= 281474976710656 AND "__new_sales_hours"."first_purchase_amount" <= 281474976710656)
);
--> statement-breakpoint
INSERT INTO `__new_sales_hours`("hour", "total_amount", "order_count", "coupon_amount", "first_purchase_count", "first_purchase_amount", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19", "c20", "c21", "c22", "c23", "c24") SELECT "hour", "total_amount", "order_count", "coupon_amount", "first_purchase_count", "first_purchase_amount", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19", "c20", "c21", "c22", "c23", "c24" FROM `sales_hours`;--> statement-breakpoint
DROP TABLE `sales_hours`;--> statement-breakpoint
ALTER TABLE `__new_sales_hours` RENAME TO `sales_hours`;--> statement-breakpoint
CREATE TRIGGER `products_sold_amount_exact_insert` BEFORE INSERT ON `products`
WHEN new.sold_amount > 9007199254740991 BEGIN SELECT RAISE(ABORT, 'products_sold_amount_exact'); END;
--> statement-breakpoint
CREATE TRIGGER `products_sold_amount_exact_update` BEFORE UPDATE OF sold_amount ON `products`
WHEN new.sold_amount > 9007199254740991 BEGIN SELECT RAISE(ABORT, 'products_sold_amount_exact'); END;
