import en from "zod/v4/locales/en.js";

// Schemas use zod's mini API (`import * as z from "zod/mini"`): the same schemas and checks as the
// classic one (`z.string().max(3)` is written `z.string().check(z.maxLength(3))`), but tree-shakable
// and far cheaper to build: classic zod was 29 KiB of the gzipped bundle and about half of the
// Worker's start-up CPU, building every method onto every schema at module load. Mini carries no
// messages of its own, so every parse passes these: the English ones zod always gave.
export const ENGLISH = { error: en().localeError };
