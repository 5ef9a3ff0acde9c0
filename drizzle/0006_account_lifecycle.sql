ALTER TABLE `email_tokens` ADD `code_hash` text;--> statement-breakpoint
ALTER TABLE `email_tokens` ADD `code_failed_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `email_tokens` ADD `session_id` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `forget_recipient` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `last_used_at` integer;