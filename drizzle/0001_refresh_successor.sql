ALTER TABLE `refresh_tokens` ADD `replaced_by` text;--> statement-breakpoint
CREATE UNIQUE INDEX `refresh_tokens_replaced_by_unique` ON `refresh_tokens` (`replaced_by`);