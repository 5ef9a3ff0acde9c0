CREATE TABLE `registrations` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`locale` text NOT NULL,
	`password_hash` text NOT NULL,
	`code_challenge` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `registrations_email` ON `registrations` (`email`,`created_at`);--> statement-breakpoint
CREATE INDEX `registrations_expires` ON `registrations` (`expires_at`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_email_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`email` text,
	`purpose` text NOT NULL,
	`token_hash` text NOT NULL,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_email_tokens`("id", "user_id", "email", "purpose", "token_hash", "failed_attempts", "created_at", "expires_at", "used_at") SELECT "id", "user_id", NULL, "purpose", "token_hash", 0, "created_at", "expires_at", "used_at" FROM `email_tokens`;--> statement-breakpoint
DROP TABLE `email_tokens`;--> statement-breakpoint
ALTER TABLE `__new_email_tokens` RENAME TO `email_tokens`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `email_tokens_hash_unique` ON `email_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `email_tokens_user_purpose` ON `email_tokens` (`user_id`,`purpose`);--> statement-breakpoint
CREATE INDEX `email_tokens_email_purpose` ON `email_tokens` (`email`,`purpose`);--> statement-breakpoint
ALTER TABLE `rate_limits` ADD `updated_at` integer;--> statement-breakpoint
CREATE INDEX `rate_limits_updated` ON `rate_limits` (`updated_at`);--> statement-breakpoint
-- Accounts nobody confirmed become pending registrations (their password stays the proof); a
-- confirmation link mailed before this release no longer opens (tokens are now stored as HMACs), so
-- they get a day to ask for a new one.
INSERT INTO `registrations`("id", "email", "name", "locale", "password_hash", "code_challenge", "created_at", "expires_at") SELECT "id", "email", "name", "locale", "password_hash", NULL, "created_at", CAST(strftime('%s', 'now') AS integer) * 1000 + 86400000 FROM `users` WHERE "email_confirmed_at" IS NULL;--> statement-breakpoint
DELETE FROM `users` WHERE "email_confirmed_at" IS NULL;