import { beforeAll, describe, expect, it } from "vitest";
import { deriveSealKey, seal, unseal } from "../../src/lib/crypto/seal.ts";

const SECRET = "test-pepper-0123456789abcdefghijklmnop";
const MAIL = JSON.stringify({ appName: "Acme", name: "Ana", link: "https://auth.example.test/confirm#token=t" });
// MAIL sealed under SECRET in the first format (v1, no associated data), as outbox rows written
// before v2 hold it.
const V1_PAYLOAD =
  "v1.h44jnrBtf3YjfXw8.nMP9NLno1xqHrQWUzoS2eQJLUY8d92b09SBpPC99FTotXWeIlV7iAXFktiJevrUg4RZtlxatOQdYVcWcK8Vf2HgfSd-1sbN2Vh40QMIEPeTnI1D_4_Ctf-mD2MMOfo2Ho5c";

let key: CryptoKey;
beforeAll(async () => {
  key = await deriveSealKey(SECRET, "outbox v1");
});

describe("a sealed payload", () => {
  it("opens with the associated data it was sealed with", async () => {
    expect(await unseal(key, await seal(key, MAIL, "row-a"), "row-a")).toBe(MAIL);
  });

  it("does not open when copied to another row", async () => {
    const sealed = await seal(key, MAIL, "row-a");
    await expect(unseal(key, sealed, "row-b")).rejects.toThrow();
    await expect(unseal(key, sealed)).rejects.toThrow();
  });

  it("still opens in the v1 format, sealed before payloads were bound to their row", async () => {
    expect(await unseal(key, V1_PAYLOAD, "any-row")).toBe(MAIL);
  });

  it("does not open in an unknown format", async () => {
    await expect(unseal(key, V1_PAYLOAD.replace(/^v1/, "v9"), "any-row")).rejects.toThrow(/format/);
  });
});
