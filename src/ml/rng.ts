// A small, fast, seedable PRNG (sfc32: 128 bits of state in four uint32 words).
// Every random choice in src/ml takes an Rng, so a decision or a fit can be replayed
// from its seed, or from the state captured just before it.

export type RngState = readonly [number, number, number, number];

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | RngState = 0) {
    if (typeof seed === 'number') {
      if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
      // splitmix32 spreads any seed over the four words; then warm up.
      let s = (Math.trunc(seed) >>> 0) ^ Math.trunc(seed / 0x100000000);
      const next = () => {
        s = (s + 0x9e3779b9) | 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
        return (z ^ (z >>> 16)) >>> 0;
      };
      this.a = next();
      this.b = next();
      this.c = next();
      this.d = next();
      for (let i = 0; i < 12; i++) this.nextUint32();
    } else {
      if (seed.length !== 4) throw new RangeError('RngState must hold 4 words');
      [this.a, this.b, this.c, this.d] = seed.map((w) => w >>> 0) as unknown as [number, number, number, number];
    }
  }

  /** The full state; `new Rng(state)` continues the exact same sequence. */
  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) throw new RangeError(`int(n) needs an integer n >= 1, got ${n}`);
    if (n <= 0x100000000) {
      // Lemire-style rejection keeps it unbiased.
      const limit = 0x100000000 - (0x100000000 % n);
      let x = this.nextUint32();
      while (x >= limit) x = this.nextUint32();
      return x % n;
    }
    return Math.floor(this.next() * n);
  }

  /** Standard normal draw (Box-Muller, no cached second value so state() captures everything). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: any }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** A child generator for stream `k`, independent of how many draws this one has made. */
  static derive(seed: number, k: number): Rng {
    const r = new Rng(seed);
    // Mix the stream index into the seed words so streams don't overlap in practice.
    const s = r.state();
    return new Rng([s[0] ^ Math.imul(k + 1, 0x9e3779b1), s[1] ^ Math.imul(k + 1, 0x85ebca77), s[2], s[3] ^ (k >>> 0)]);
  }
}
