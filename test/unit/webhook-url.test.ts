import { describe, expect, it } from "vitest";
import { webhookSecretProblem } from "../../src/lib/crypto/webhook-secrets.ts";
import { isGlobalIpv4, isGlobalIpv6, webhookUrlProblem } from "../../src/lib/webhook-url.ts";

const production = { allowLoopback: false };
const local = { allowLoopback: true };

describe("IPv4 addresses", () => {
  it.each(["8.8.8.8", "93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "169.253.255.255", "223.255.255.255"])("%s is global", (ip) => {
    expect(isGlobalIpv4(ip)).toBe(true);
  });
  it.each(["0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.255", "127.0.0.1", "127.255.0.9", "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.0.1", "198.18.0.1", "198.19.255.255", "198.51.100.1", "203.0.113.9", "224.0.0.1", "255.255.255.255", "256.1.1.1"])(
    "%s is not",
    (ip) => {
      expect(isGlobalIpv4(ip)).toBe(false);
    },
  );
});

describe("IPv6 addresses", () => {
  it.each(["2606:4700:4700::1111", "2a00:1450:4001:81a::200e", "2001:4860:4860::8888", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"])("%s is global", (ip) => {
    expect(isGlobalIpv6(ip)).toBe(true);
  });
  it.each([
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::a00:1",
    "64:ff9b:1::1",
    "2002:a00:1::1",
    "2001:db8::1",
    "2001::1",
    "100::1",
    "fc00::1",
    "fdff::1",
    "fe80::1",
    "febf::1",
    "fec0::1",
    "ff02::1",
    "3fff::1",
    "1:2:3:4:5:6:7",
    "1::2::3",
    "g::1",
  ])("%s is not", (ip) => {
    expect(isGlobalIpv6(ip)).toBe(false);
  });
});

describe("webhook URLs", () => {
  it.each(["https://hooks.example.com/in?x=1", "https://hooks.example.com:8443/in", "https://8.8.8.8/", "https://[2606:4700::1111]/"])("accepts %s", (url) => {
    expect(webhookUrlProblem(url, production)).toBeNull();
  });

  it.each([
    ["http://hooks.example.com/", "must use https"],
    ["ftp://hooks.example.com/", "must use https"],
    ["https://127.1/", "must not point at a private, loopback or link-local address"],
    ["https://0177.0.0.1/", "must not point at a private, loopback or link-local address"],
    ["https://LOCALHOST./", "must not point at a local name"],
    ["https://db.svc.cluster.local/", "must not point at a local name"],
    ["https://router.home.arpa/", "must not point at a local name"],
    ["https://kubernetes/", "must be a fully qualified name"],
    ["https://a:b@hooks.example.com/", "must not contain a user name or password"],
    [`https://hooks.example.com/${"x".repeat(2048)}`, "must be at most 2048 characters"],
  ])("refuses %s: %s", (url, problem) => {
    expect(webhookUrlProblem(url, production)).toBe(problem);
  });

  it("allows this machine over http or https only where loopback is allowed", () => {
    for (const url of ["http://127.0.0.1:9000/", "https://localhost/", "http://[::1]:9000/"]) {
      expect(webhookUrlProblem(url, local)).toBeNull();
      expect(webhookUrlProblem(url, production)).not.toBeNull();
    }
    expect(webhookUrlProblem("http://hooks.example.com/", local)).toBe("must use https (or http to localhost)");
    expect(webhookUrlProblem("https://10.0.0.1/", local)).not.toBeNull();
  });
});

describe("webhook secrets", () => {
  it.each([
    [`whsec_${btoa("k".repeat(24))}`, null],
    [`whsec_${btoa("k".repeat(64))}`, null],
    [`whsec_${btoa("k".repeat(23))}`, "must hold 24 to 64 bytes"],
    [`whsec_${btoa("k".repeat(65))}`, "must hold 24 to 64 bytes"],
    [`whsec_${btoa("k".repeat(32))}`.slice(0, -1), "must be whsec_ followed by base64"],
    ["whsec_not base64!", "must be whsec_ followed by base64"],
    [btoa("k".repeat(32)), "must start with whsec_"],
  ])("%s: %s", (secret, problem) => {
    expect(webhookSecretProblem(secret)).toBe(problem);
  });
});
