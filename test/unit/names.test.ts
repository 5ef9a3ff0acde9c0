import { describe, expect, it } from "vitest";
import { nameField } from "../../src/auth/identity.ts";

// The name goes into mails to addresses nobody has confirmed yet: it must not carry a link, a
// phone number or text that reorders itself, but any script's letters are welcome.
describe.each([
  { given: "Ana", stored: "Ana" },
  { given: "José", stored: "José" },
  { given: "O'Brien", stored: "O'Brien" },
  { given: "O\u2019Brien", stored: "O\u2019Brien" },
  { given: "Jean-Luc", stored: "Jean-Luc" },
  { given: "Zoe\u0308", stored: "Zoë" },
  { given: "李小龍", stored: "李小龍" },
  { given: "Ana María", stored: "Ana María" },
  { given: "  Ana María \n", stored: "Ana María" },
  { given: "J. R. R. Tolkien", stored: "J. R. R. Tolkien" },
  { given: "J.R.R. Tolkien", stored: "J.R.R. Tolkien" },
  { given: "Gerard 't Hooft", stored: "Gerard 't Hooft" },
  { given: "Đặng Thị Hương", stored: "Đặng Thị Hương" },
  { given: "محمد", stored: "محمد" },
  { given: "", stored: null },
  { given: "   ", stored: null },
  { given: undefined, stored: null },
].map((c) => ({ ...c, shown: JSON.stringify(c.given) })))("the name $shown", ({ given, stored }) => {
  it(`is accepted and stored as ${JSON.stringify(stored)}`, () => {
    expect(nameField.parse(given)).toBe(stored);
  });
});

describe.each([
  { given: "http://evil.test", problem: /only letters/ },
  { given: "evil.test/x", problem: /only letters/ },
  { given: "evil.test", problem: /web address/ },
  { given: "Visit evilbank.com now", problem: /web address/ },
  { given: "ana@evil.test", problem: /only letters/ },
  { given: "5551234", problem: /only letters/ },
  { given: "Call 555-1234", problem: /only letters/ },
  { given: "Ana\u202E", problem: /only letters/ },
  { given: "Ana\u200Fevil", problem: /only letters/ },
  { given: "Ana\tMaría", problem: /only letters/ },
  { given: "Ana\nMaría", problem: /only letters/ },
  { given: "Ana\u0000", problem: /only letters/ },
  { given: "Ana 🙂", problem: /only letters/ },
  { given: "<b>Ana</b>", problem: /only letters/ },
  { given: "- . '", problem: /a letter/ },
  { given: "a".repeat(101), problem: /100/ },
].map((c) => ({ ...c, shown: JSON.stringify(c.given) })))("the name $shown", ({ given, problem }) => {
  it("is refused with a message a person can act on", () => {
    const result = nameField.safeParse(given);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual([expect.stringMatching(problem)]);
  });
});
