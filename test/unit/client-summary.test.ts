import { describe, expect, it } from "vitest";
import { summarizeUserAgent, truncateIp } from "../../src/lib/client-summary.ts";

describe("truncateIp", () => {
  it.each([
    ["198.51.100.23", "198.51.100.0/24"],
    ["::ffff:198.51.100.23", "198.51.100.0/24"],
    ["2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"],
    ["2001:0db8:00ab::1", "2001:db8:ab::/48"],
    ["2001:db8::", "2001:db8:0::/48"],
    ["::1", "0:0:0::/48"],
    [null, null],
    ["not an address", null],
    ["2001:db8:<script>", null],
  ])("%s → %s", (ip, expected) => {
    expect(truncateIp(ip)).toBe(expected);
  });
});

describe("summarizeUserAgent", () => {
  it.each([
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on macOS"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on Windows"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1", "Chrome on iOS"],
    ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome on Android"],
    ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"],
    ["curl/8.8.0", "curl"],
    ["", "Unknown device"],
    [null, "Unknown device"],
    ["<img src=x onerror=alert(1)>", "Unknown device"],
  ])("%s → %s", (ua, expected) => {
    expect(summarizeUserAgent(ua)).toBe(expected);
  });
});
