// A Golomb-coded set: a set of strings kept as the sorted hashes of its members, each hash reduced
// to [0, count × 2^bits) and stored as the Rice-coded gap to the previous one, about bits + 1.6 bits
// per member. Membership has no false negatives; a string that is not a member tests positive with
// probability about 2^-bits (its hash lands on a member's). Used for the common-password list
// (src/auth/common-passwords.ts, written by tools/generate-common-passwords.ts), where it takes a
// third of the gzipped bytes of the list itself.

export interface GolombSetData {
  /** Members encoded: fixes the range [0, members × 2^bits) every hash is reduced into. */
  members: number;
  /** Values stored: the members' reduced hashes, collisions merged (a few fewer than members). */
  stored: number;
  /** Rice parameter; the false-positive rate is about 2^-bits. */
  bits: number;
  /** The gaps between the sorted values, Rice-coded, most significant bit first. */
  bytes: Uint8Array;
}

/**
 * cyrb53 (bryc, public domain): a fast, well-mixed 53-bit string hash computed with 32-bit integer
 * steps, the same in Node (the generator) and the Worker. Not a cryptographic hash, and it need not
 * be: the set holds public data, and a collision only makes a password count as common.
 */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function reduce(text: string, members: number, bits: number): number {
  return hash53(text) % (members * 2 ** bits);
}

/** Encodes a set (the generator's side). */
export function encodeGolombSet(members: string[], bits: number): GolombSetData {
  if (members.length * 2 ** bits > 2 ** 32) throw new Error("members × 2^bits must fit in 32 bits");
  const values = [...new Set(members.map((m) => reduce(m, members.length, bits)))].sort((a, b) => a - b);
  const bytes: number[] = [];
  let byte = 0;
  let used = 0;
  const put = (bit: number) => {
    byte = (byte << 1) | bit;
    if (++used === 8) {
      bytes.push(byte);
      byte = 0;
      used = 0;
    }
  };
  let previous = 0;
  for (const value of values) {
    const gap = value - previous;
    previous = value;
    for (let q = Math.floor(gap / 2 ** bits); q > 0; q--) put(1);
    put(0);
    for (let i = bits - 1; i >= 0; i--) put(Math.floor(gap / 2 ** i) % 2);
  }
  if (used > 0) bytes.push(byte << (8 - used));
  return { members: members.length, stored: values.length, bits, bytes: Uint8Array.from(bytes) };
}

/** Decodes the set once into its sorted values (4 bytes each); `has` is then a binary search. */
export function openGolombSet(data: GolombSetData): { has(text: string): boolean } {
  const { members, stored, bits, bytes } = data;
  const values = new Uint32Array(stored);
  let position = 0;
  const bit = () => (bytes[position >> 3]! >> (7 - (position++ & 7))) & 1;
  let value = 0;
  for (let n = 0; n < stored; n++) {
    let q = 0;
    while (bit() === 1) q++;
    let r = 0;
    for (let i = 0; i < bits; i++) r = r * 2 + bit();
    value += q * 2 ** bits + r;
    values[n] = value;
  }
  return {
    has(text) {
      const wanted = reduce(text, members, bits);
      let lo = 0;
      let hi = values.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const at = values[mid]!;
        if (at === wanted) return true;
        if (at < wanted) lo = mid + 1;
        else hi = mid - 1;
      }
      return false;
    },
  };
}
