CREATE TABLE `customer_hours` (
	`customer_id` integer NOT NULL,
	`hour` integer NOT NULL,
	`orders` integer NOT NULL,
	PRIMARY KEY(`customer_id`, `hour`)
);
--> statement-breakpoint
CREATE TABLE `order_items` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`order_id` integer NOT NULL,
	`product_id` integer NOT NULL,
	`product_name` text NOT NULL,
	`unit_price` integer NOT NULL,
	`quantity` integer NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`product_id`) REFERENCES `products`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `order_items_order` ON `order_items` (`order_id`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`customer_id` integer NOT NULL,
	`status` text NOT NULL,
	`item_price` integer NOT NULL,
	`discount_price` integer NOT NULL,
	`delivery_price` integer NOT NULL,
	`total_price` integer NOT NULL,
	`is_first_purchase` integer DEFAULT false NOT NULL,
	`payment_method` text,
	`paid_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`rev` integer NOT NULL,
	FOREIGN KEY (`customer_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_one_first_purchase` ON `orders` (`customer_id`) WHERE is_first_purchase = 1;--> statement-breakpoint
CREATE INDEX `orders_customer_counted` ON `orders` (`customer_id`,`paid_at`,`id`) WHERE status IN ('PAID', 'SHIPPING', 'COMPLETED');--> statement-breakpoint
CREATE TABLE `product_checkpoints` (
	`hour` integer NOT NULL,
	`product_id` integer NOT NULL,
	`quantity` integer NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`hour`, `product_id`)
);
--> statement-breakpoint
CREATE TABLE `product_sales` (
	`product_id` integer NOT NULL,
	`hour` integer NOT NULL,
	`quantity` integer NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`product_id`, `hour`)
);
--> statement-breakpoint
CREATE TABLE `products` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`price` integer NOT NULL,
	`sold_quantity` integer DEFAULT 0 NOT NULL,
	`sold_amount` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sales_hours` (
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
	`c24` integer DEFAULT 0 NOT NULL
);
