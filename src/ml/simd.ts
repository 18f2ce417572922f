// The dense inner loops of k-means (Lloyd's E-step) and of the pruned KNN search (a block of
// queries against one leaf) in WebAssembly SIMD (f64x2), generated here from TypeScript: no binary
// file, no I/O. V8 compiles JavaScript arithmetic to scalar instructions; the same loops in
// WebAssembly SIMD do two lanes per instruction. On 50,000 × 16 rows against 8 centres the dot
// products alone measured 0.58 ms against 2.58 ms for linalg.ts's dotsABt.
//
// The results are bit-identical to the scalar code in kmeans.ts and linalg.ts (simd.test.ts
// compares them; knn-pruned.test.ts compares the SIMD search with the scalar brute force):
// - each dot product is a multiply then an add, in order t = 0..d-1, from 0, as dotsABt and dotSeq
//   sum it (two lanes are two different dots, never two halves of one; no fused multiply-add);
// - the nearest centre is the smallest cnorm[c] − 2·dot, ties to the lowest index, and the distance
//   xnorm + that, clamped at 0, exactly as argminChunk computes them; a tile's inertia is the sum of
//   its rows' distances in row order;
// - each block's partial sums add the rows of each centre in row order, from 0, as blockPartials does
//   (one lane per coordinate).

import type { FloatArray } from './matrix.ts';

// @types/node does not declare WebAssembly (lib.dom does, and this project does not load it): the
// members used here.
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
};
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly kind?: 'WebAssembly.Module';
}

// ---- A minimal assembler: LEB128, the opcodes used, sections (WebAssembly core spec + SIMD). ----

const u32 = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
const s32 = (v: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const f64Bytes = (v: number): number[] => Array.from(new Uint8Array(new Float64Array([v]).buffer));
const simd = (code: number, ...imm: number[]) => [0xfd, ...u32(code), ...imm];
/** Memory immediate: alignment (log2 bytes) and a constant byte offset. */
const at = (align: number, offset: number) => [...u32(align), ...u32(offset)];

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...u32(depth)],
  brIf: (depth: number) => [0x0d, ...u32(depth)],
  get: (local: number) => [0x20, ...u32(local)],
  set: (local: number) => [0x21, ...u32(local)],
  tee: (local: number) => [0x22, ...u32(local)],
  i32: (v: number) => [0x41, ...s32(v)],
  f64: (v: number) => [0x44, ...f64Bytes(v)],
  i32Load: (offset = 0) => [0x28, ...at(2, offset)],
  f64Load: (offset = 0) => [0x2b, ...at(3, offset)],
  i32Store: (offset = 0) => [0x36, ...at(2, offset)],
  f64Store: (offset = 0) => [0x39, ...at(3, offset)],
  i32Eqz: [0x45],
  i32GtS: [0x4a],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32ShrU: [0x76],
  f64Add: [0xa0],
  i32TruncF64S: [0xaa],
  v128Load: (offset = 0) => simd(0x00, ...at(4, offset)),
  v128Store: (offset = 0) => simd(0x0b, ...at(4, offset)),
  /** One f64 from memory into both lanes. */
  load64Splat: (offset = 0) => simd(0x0a, ...at(3, offset)),
  zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  /** Lanes (a[la], b[lb]) of two f64x2: byte shuffle. */
  pick: (la: 0 | 1, lb: 0 | 1) => simd(0x0d, ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => la * 8 + i), ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => 16 + lb * 8 + i)),
  f64x2Splat: simd(0x14),
  f64x2Extract: (lane: 0 | 1) => simd(0x21, lane),
  f64x2Lt: simd(0x49),
  bitselect: simd(0x52),
  f64x2Add: simd(0xf0),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
};
const section = (id: number, body: number[]) => [id, ...u32(body.length), ...body];
const vector = (items: number[][]) => [...u32(items.length), ...items.flat()];
const name = (s: string) => [...u32(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** A function body: its locals are numbered after the params, in the order declared. */
function fn(locals: { i32?: number; f64?: number; v128?: number }, build: (emit: (...p: number[][]) => void) => void): number[] {
  const code: number[] = [];
  build((...parts) => parts.forEach((p) => code.push(...p)));
  code.push(...op.end);
  const groups = [
    [locals.i32 ?? 0, I32],
    [locals.f64 ?? 0, F64],
    [locals.v128 ?? 0, V128],
  ].filter(([count]) => count > 0);
  const body = [...u32(groups.length), ...groups.flatMap(([count, type]) => [...u32(count), type]), ...code];
  return [...u32(body.length), ...body];
}

/** The locals of the pair-of-rows × 8-columns dot loop, shared by assign and dots. */
interface PairLocals {
  A: number;
  A1: number;
  CT: number;
  PC: number;
  D: number;
  T: number;
  G: number;
  GROUPS: number;
  ROWBYTES: number;
  STRIDE: number;
  X0: number;
  X1: number;
  C: number[];
  ACC: number[];
}

/**
 * Emits the dots of the row pair (A, A1) with the 8 columns of the current group (at PC): the 8
 * accumulators zeroed, then for t = 0..d-1, ACC[j] (row A) and ACC[4 + j] (row A1) += x[t] · the
 * columns 2j, 2j+1 at t. A, A1 end one row further (8d bytes), PC d strides further.
 */
function emitPairDots(emit: (...p: number[][]) => void, l: PairLocals): void {
  for (const acc of l.ACC) emit(op.zero, op.set(acc));
  emit(op.get(l.D), op.set(l.T));
  emit(op.loop);
  emit(op.get(l.A), op.load64Splat(), op.set(l.X0), op.get(l.A1), op.load64Splat(), op.set(l.X1));
  l.C.forEach((c, j) => emit(op.get(l.PC), op.v128Load(16 * j), op.set(c)));
  l.C.forEach((c, j) => emit(op.get(l.ACC[j]), op.get(l.X0), op.get(c), op.f64x2Mul, op.f64x2Add, op.set(l.ACC[j])));
  l.C.forEach((c, j) => emit(op.get(l.ACC[4 + j]), op.get(l.X1), op.get(c), op.f64x2Mul, op.f64x2Add, op.set(l.ACC[4 + j])));
  emit(op.get(l.A), op.i32(8), op.i32Add, op.set(l.A), op.get(l.A1), op.i32(8), op.i32Add, op.set(l.A1));
  emit(op.get(l.PC), op.get(l.STRIDE), op.i32Add, op.set(l.PC));
  emit(op.get(l.T), op.i32(1), op.i32Sub, op.tee(l.T), op.brIf(0), op.end);
}

/** Emits the step to the next group: the same rows from their start, PC at the next 8 columns of t = 0. */
function emitNextGroup(emit: (...p: number[][]) => void, l: PairLocals): void {
  emit(op.get(l.A), op.get(l.ROWBYTES), op.i32Sub, op.set(l.A), op.get(l.A1), op.get(l.ROWBYTES), op.i32Sub, op.set(l.A1));
  emit(op.get(l.CT), op.get(l.GROUPS), op.get(l.G), op.i32Sub, op.i32(1), op.i32Add, op.i32(64), op.i32Mul, op.i32Add, op.set(l.PC));
}

/**
 * assign(a, rows, ct, d, groups, cn, xn, lab, dist) → the tile's inertia. Pointers in bytes; rows are
 * taken in pairs (an odd tile also computes the row after it, whose results go to slack slots).
 *   per pair of rows, per group of 8 centres: the 16 dots (4 f64x2 accumulators per row, lanes =
 *   centres), regrouped to lanes = rows, then v = cn[c] − 2·dot and a running (min, index) per row;
 *   then dist = max-at-0(xn + min), lab = index; the inertia adds the rows' dist in order.
 * ct: the centres transposed (t-major), 8·groups per t, zero-padded; cn: their squared norms, +∞ for
 * the padding centres (never chosen).
 */
function assignFn(): number[] {
  const [A, ROWS, CT, D, GROUPS, CN, XN, LAB, DIST] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [A1, PC, PCN, T, G, ROWBYTES, STRIDE] = [9, 10, 11, 12, 13, 14, 15];
  const [TOTAL, CB] = [16, 17];
  let v = 18;
  const X0 = v++;
  const X1 = v++;
  const C = [v++, v++, v++, v++];
  const ACC = [v++, v++, v++, v++, v++, v++, v++, v++];
  const [P, VAL, MASK, BEST, BESTI, ZERO] = [v++, v++, v++, v++, v++, v++];
  const pair: PairLocals = { A, A1, CT, PC, D, T, G, GROUPS, ROWBYTES, STRIDE, X0, X1, C, ACC };
  return fn({ i32: 7, f64: 2, v128: v - 18 }, (emit) => {
    emit(op.get(D), op.i32(8), op.i32Mul, op.set(ROWBYTES), op.get(GROUPS), op.i32(64), op.i32Mul, op.set(STRIDE));
    emit(op.zero, op.set(ZERO), op.f64(0), op.set(TOTAL));
    emit(op.block, op.loop); // pairs of rows
    emit(op.get(ROWS), op.i32(0), op.i32GtS, op.i32Eqz, op.brIf(1));
    emit(op.get(A), op.get(ROWBYTES), op.i32Add, op.set(A1));
    emit(op.f64(Infinity), op.f64x2Splat, op.set(BEST), op.zero, op.set(BESTI));
    emit(op.get(CT), op.set(PC), op.get(CN), op.set(PCN), op.f64(0), op.set(CB), op.get(GROUPS), op.set(G));
    emit(op.loop); // groups of 8 centres
    emitPairDots(emit, pair);
    // Centre c = CB + 2j + lane of accumulator j: (row 0's dot, row 1's dot) per centre, in order.
    for (let j = 0; j < 4; j++) {
      for (const lane of [0, 1] as const) {
        emit(op.get(ACC[j]), op.get(ACC[4 + j]), op.pick(lane, lane), op.set(P));
        emit(op.get(PCN), op.load64Splat(8 * (2 * j + lane)), op.get(P), op.get(P), op.f64x2Add, op.f64x2Sub, op.set(VAL));
        emit(op.get(VAL), op.get(BEST), op.f64x2Lt, op.set(MASK));
        emit(op.get(VAL), op.get(BEST), op.get(MASK), op.bitselect, op.set(BEST));
        emit(op.get(CB), op.f64(2 * j + lane), op.f64Add, op.f64x2Splat, op.get(BESTI), op.get(MASK), op.bitselect, op.set(BESTI));
      }
    }
    // Next group: the same rows again, the next 8 centres.
    emitNextGroup(emit, pair);
    emit(op.get(PCN), op.i32(64), op.i32Add, op.set(PCN), op.get(CB), op.f64(8), op.f64Add, op.set(CB));
    emit(op.get(G), op.i32(1), op.i32Sub, op.tee(G), op.brIf(0), op.end);
    // dist = xn + best, negative → 0 (as `if (dist < 0) dist = 0`); labels; inertia in row order.
    emit(op.get(XN), op.v128Load(), op.get(BEST), op.f64x2Add, op.set(VAL));
    emit(op.get(VAL), op.get(ZERO), op.f64x2Lt, op.set(MASK), op.get(ZERO), op.get(VAL), op.get(MASK), op.bitselect, op.set(VAL));
    emit(op.get(DIST), op.get(VAL), op.v128Store());
    emit(op.get(LAB), op.get(BESTI), op.f64x2Extract(0), op.i32TruncF64S, op.i32Store(0));
    emit(op.get(LAB), op.get(BESTI), op.f64x2Extract(1), op.i32TruncF64S, op.i32Store(4));
    emit(op.get(TOTAL), op.get(VAL), op.f64x2Extract(0), op.f64Add, op.set(TOTAL));
    emit(op.get(ROWS), op.i32(1), op.i32GtS, op.if, op.get(TOTAL), op.get(VAL), op.f64x2Extract(1), op.f64Add, op.set(TOTAL), op.end);
    // Next pair.
    emit(op.get(A1), op.get(ROWBYTES), op.i32Add, op.set(A));
    emit(op.get(XN), op.i32(16), op.i32Add, op.set(XN), op.get(DIST), op.i32(16), op.i32Add, op.set(DIST), op.get(LAB), op.i32(8), op.i32Add, op.set(LAB));
    emit(op.get(ROWS), op.i32(2), op.i32Sub, op.set(ROWS), op.br(0), op.end, op.end);
    emit(op.get(TOTAL));
  });
}

/**
 * sums(x, lab, count, d, k, out): out[0..k·d) = per centre, the sum of its rows (in row order, from
 * 0), out[k·d..k·d+k) = their counts. Two coordinates per f64x2; an odd last coordinate alone.
 */
function sumsFn(): number[] {
  const [X, LAB, COUNT, D, K, OUT] = [0, 1, 2, 3, 4, 5];
  const [PO, I, PAIRS, CNT] = [6, 7, 8, 9];
  return fn({ i32: 4 }, (emit) => {
    // Zero the k·d sums and k counts.
    emit(op.get(OUT), op.set(PO), op.get(K), op.get(D), op.i32(1), op.i32Add, op.i32Mul, op.set(I));
    emit(op.block, op.loop, op.get(I), op.i32Eqz, op.brIf(1));
    emit(op.get(PO), op.f64(0), op.f64Store(), op.get(PO), op.i32(8), op.i32Add, op.set(PO));
    emit(op.get(I), op.i32(1), op.i32Sub, op.set(I), op.br(0), op.end, op.end);
    emit(op.block, op.loop); // rows
    emit(op.get(COUNT), op.i32Eqz, op.brIf(1));
    // PO = out + 8·d·label; CNT = out + 8·(k·d + label)
    emit(op.get(LAB), op.i32Load(), op.set(I));
    emit(op.get(OUT), op.get(I), op.get(D), op.i32Mul, op.i32(8), op.i32Mul, op.i32Add, op.set(PO));
    emit(op.get(OUT), op.get(K), op.get(D), op.i32Mul, op.get(I), op.i32Add, op.i32(8), op.i32Mul, op.i32Add, op.set(CNT));
    emit(op.get(CNT), op.get(CNT), op.f64Load(), op.f64(1), op.f64Add, op.f64Store());
    emit(op.get(D), op.i32(1), op.i32ShrU, op.set(PAIRS));
    emit(op.block, op.loop, op.get(PAIRS), op.i32Eqz, op.brIf(1));
    emit(op.get(PO), op.get(PO), op.v128Load(), op.get(X), op.v128Load(), op.f64x2Add, op.v128Store());
    emit(op.get(PO), op.i32(16), op.i32Add, op.set(PO), op.get(X), op.i32(16), op.i32Add, op.set(X));
    emit(op.get(PAIRS), op.i32(1), op.i32Sub, op.set(PAIRS), op.br(0), op.end, op.end);
    emit(op.get(D), op.i32(1), op.i32And, op.if);
    emit(op.get(PO), op.get(PO), op.f64Load(), op.get(X), op.f64Load(), op.f64Add, op.f64Store());
    emit(op.get(X), op.i32(8), op.i32Add, op.set(X), op.end);
    emit(op.get(LAB), op.i32(4), op.i32Add, op.set(LAB), op.get(COUNT), op.i32(1), op.i32Sub, op.set(COUNT), op.br(0), op.end, op.end);
  });
}

/**
 * dots(a, pairs, ct, d, groups, out), pointers in bytes: for each pair of rows (a, a + 8d) and each
 * group of 8 columns, the 16 dots Σ_t x[row][t] · ct[t·8·groups + 8g + c] (4 f64x2 accumulators per
 * row, lanes = columns), stored at out[row·8·groups + 8g + c]. ct: the other operand transposed
 * (t-major), zero-padded to a multiple of 8 columns.
 */
function dotsFn(): number[] {
  const [A, PAIRS, CT, D, GROUPS, OUT] = [0, 1, 2, 3, 4, 5];
  const [A1, PC, T, G, ROWBYTES, STRIDE] = [6, 7, 8, 9, 10, 11];
  let v = 12;
  const X0 = v++;
  const X1 = v++;
  const C = [v++, v++, v++, v++];
  const ACC = [v++, v++, v++, v++, v++, v++, v++, v++];
  const pair: PairLocals = { A, A1, CT, PC, D, T, G, GROUPS, ROWBYTES, STRIDE, X0, X1, C, ACC };
  return fn({ i32: 6, v128: v - 12 }, (emit) => {
    emit(op.get(D), op.i32(8), op.i32Mul, op.set(ROWBYTES), op.get(GROUPS), op.i32(64), op.i32Mul, op.set(STRIDE));
    emit(op.block, op.loop); // pairs of rows
    emit(op.get(PAIRS), op.i32Eqz, op.brIf(1));
    emit(op.get(A), op.get(ROWBYTES), op.i32Add, op.set(A1), op.get(CT), op.set(PC), op.get(GROUPS), op.set(G));
    emit(op.loop); // groups of 8 columns
    emitPairDots(emit, pair);
    ACC.slice(0, 4).forEach((acc, j) => emit(op.get(OUT), op.get(acc), op.v128Store(16 * j)));
    ACC.slice(4).forEach((acc, j) => emit(op.get(OUT), op.get(STRIDE), op.i32Add, op.get(acc), op.v128Store(16 * j)));
    // Next group: the same rows again, the next 8 columns.
    emit(op.get(OUT), op.i32(64), op.i32Add, op.set(OUT));
    emitNextGroup(emit, pair);
    emit(op.get(G), op.i32(1), op.i32Sub, op.tee(G), op.brIf(0), op.end);
    // Next pair: the rows after A1, the output rows after the second.
    emit(op.get(A1), op.get(ROWBYTES), op.i32Add, op.set(A), op.get(OUT), op.get(STRIDE), op.i32Add, op.set(OUT));
    emit(op.get(PAIRS), op.i32(1), op.i32Sub, op.set(PAIRS), op.br(0), op.end, op.end);
  });
}

function moduleBytes(): Uint8Array {
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([
      [0x60, ...u32(9), ...new Array<number>(9).fill(I32), 0x01, F64],
      [0x60, ...u32(6), ...new Array<number>(6).fill(I32), 0x00],
    ])),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...u32(1)]])),
    ...section(3, vector([[0x00], [0x01], [0x01]])),
    ...section(7, vector([[...name('assign'), 0x00, 0x00], [...name('sums'), 0x00, 0x01], [...name('dots'), 0x00, 0x02]])),
    ...section(10, vector([assignFn(), sumsFn(), dotsFn()])),
  ]);
}

const MODULE_BYTES = moduleBytes();

/** WebAssembly with SIMD is available here (Node has it since 16.4): the module validates. */
export const simdAvailable: boolean = typeof WebAssembly === 'object' && WebAssembly.validate(MODULE_BYTES);

/** The most bytes of WebAssembly memory one SimdLloyd takes; larger data uses the scalar code. */
export const SIMD_MAX_BYTES = 2 ** 31;

/** Doubles of WebAssembly memory for n rows of d values, k centres. */
function layout(n: number, d: number, k: number) {
  const stride = Math.ceil(k / 8) * 8;
  const x = 0;
  const xnorm = x + (n + 1) * d; // one slack row after the rows: an odd tile reads it (its results go to slack slots)
  const ct = xnorm + n + 2;
  const cn = ct + d * stride;
  const dist = cn + stride;
  const labels = dist + n + 2; // n + 2 int32 in (n + 2) / 2 doubles, rounded up
  const out = labels + Math.ceil((n + 2) / 2);
  const end = out + k * d + k;
  return { stride, x, xnorm, ct, cn, dist, labels, out, end };
}

/** Bytes of WebAssembly memory a SimdLloyd of these sizes takes. */
export function simdBytes(n: number, d: number, k: number): number {
  return layout(n, d, k).end * 8;
}

let compiled: WasmModule | null = null;

interface Kernel {
  memory: WasmMemory;
  exports: Record<string, unknown>;
}

/**
 * The kernel of the last released SimdLloyd or SimdLeafDots of this thread, taken by the next one:
 * fresh memory is slow to touch on some machines (page faults on a VM), and each fit would otherwise
 * map its own. Memories above SPARE_MAX_BYTES are not kept (WebAssembly memory never shrinks).
 */
let spare: Kernel | null = null;
const SPARE_MAX_BYTES = 256 * 2 ** 20;

function giveBack(kernel: Kernel | null): void {
  const bytes = kernel?.memory.buffer.byteLength ?? Infinity;
  if (kernel !== null && bytes <= SPARE_MAX_BYTES && (spare === null || spare.memory.buffer.byteLength < bytes)) spare = kernel;
}

function takeKernel(bytes: number): Kernel {
  const pages = Math.ceil(bytes / 65_536);
  const kernel = spare;
  spare = null;
  if (kernel !== null) {
    const have = kernel.memory.buffer.byteLength / 65_536;
    try {
      if (have < pages) kernel.memory.grow(pages - have);
      return kernel;
    } catch {
      // Cannot grow: let it go, and try a fresh memory below.
    }
  }
  const memory = new WebAssembly.Memory({ initial: pages });
  compiled ??= new WebAssembly.Module(MODULE_BYTES);
  return { memory, exports: new WebAssembly.Instance(compiled, { env: { memory } }).exports };
}

/**
 * Lloyd's dense E-step for one data set in WebAssembly memory: the rows and their norms are copied
 * in once, the centres at each step. One per thread and fit; release() when the fit is done.
 */
export class SimdLloyd {
  private kernel: Kernel | null;
  private readonly heap: Float64Array;
  private readonly labelsView: Int32Array;
  private readonly at: ReturnType<typeof layout>;
  private readonly n: number;
  private readonly d: number;
  private readonly k: number;
  private readonly assignFn: (a: number, rows: number, ct: number, d: number, groups: number, cn: number, xn: number, lab: number, dist: number) => number;
  private readonly sumsFn: (x: number, lab: number, count: number, d: number, k: number, out: number) => void;

  constructor(x: FloatArray, xnorm: Float64Array, n: number, d: number, k: number) {
    if (!simdAvailable) throw new Error('WebAssembly SIMD is not available');
    if (simdBytes(n, d, k) > SIMD_MAX_BYTES) throw new RangeError('data too large for the WebAssembly k-means kernel');
    this.n = n;
    this.d = d;
    this.k = k;
    this.at = layout(n, d, k);
    this.kernel = takeKernel(this.at.end * 8);
    const { memory, exports } = this.kernel;
    this.assignFn = exports.assign as SimdLloyd['assignFn'];
    this.sumsFn = exports.sums as SimdLloyd['sumsFn'];
    this.heap = new Float64Array(memory.buffer);
    this.heap.set(x.length === n * d ? x : x.subarray(0, n * d), this.at.x);
    this.heap.set(xnorm.subarray(0, n), this.at.xnorm);
    this.labelsView = new Int32Array(memory.buffer, this.at.labels * 8, n + 2);
  }

  /** The centres (k rows of d) and their squared norms for the next steps. */
  setCenters(centers: Float64Array, cnorm: Float64Array): void {
    const { heap, d, k } = this;
    const { stride, ct, cn } = this.at;
    heap.fill(0, ct, ct + d * stride);
    for (let c = 0; c < k; c++) for (let t = 0; t < d; t++) heap[ct + t * stride + c] = centers[c * d + t];
    heap.fill(Infinity, cn, cn + stride);
    heap.set(cnorm.subarray(0, k), cn);
  }

  /** Labels and distances of rows i0..i0+m-1 (kept here); returns their inertia, added in row order. */
  assign(i0: number, m: number): number {
    const { d, at } = this;
    return this.assignFn((at.x + i0 * d) * 8, m, at.ct * 8, d, at.stride / 8, at.cn * 8, (at.xnorm + i0) * 8, at.labels * 8 + i0 * 4, (at.dist + i0) * 8);
  }

  /** The partial sums and counts of rows lo..hi-1 by their labels, into partial/pcounts at block slot ch. */
  sums(lo: number, hi: number, partial: Float64Array, pcounts: Float64Array, ch: number): void {
    const { d, k, at, heap } = this;
    this.sumsFn((at.x + lo * d) * 8, at.labels * 8 + lo * 4, hi - lo, d, k, at.out * 8);
    partial.set(heap.subarray(at.out, at.out + k * d), ch * k * d);
    pcounts.set(heap.subarray(at.out + k * d, at.out + k * d + k), ch * k);
  }

  /** Gives the memory to the next SimdLloyd of this thread; this one must not be used after. */
  release(): void {
    giveBack(this.kernel);
    this.kernel = null;
  }

  /** Copies the labels (and the distances) of every row out. */
  read(labels: Int32Array, minDist: Float64Array | null): void {
    labels.set(this.labelsView.subarray(0, this.n));
    if (minDist !== null) minDist.set(this.heap.subarray(this.at.dist, this.at.dist + this.n));
  }
}

/**
 * The dot products of a block of queries with the rows of one leaf of a KNN index (knn-leaves.ts),
 * each summed in order as dotsABt sums it. The leaves are copied in once, each transposed (t-major)
 * and zero-padded to a multiple of 8 rows; the queries are written into `all` (every query of the
 * block) or `sub` (the ones a leaf can still improve) before run().
 */
export class SimdLeafDots {
  /** (maxQueries + 1) rows of d: the block's queries (the extra row is read for an odd count). */
  readonly all: Float64Array;
  readonly sub: Float64Array;
  /** The dots of the last run: query u, leaf row c at tile[u · stride + c] (stride returned by run). */
  readonly tile: Float64Array;
  private kernel: Kernel | null;
  private readonly dotsFn: (a: number, pairs: number, ct: number, d: number, groups: number, out: number) => void;
  private readonly leafAt: Int32Array;
  private readonly groups: Int32Array;
  private readonly d: number;
  private readonly allAt: number;
  private readonly subAt: number;
  private readonly tileAt: number;

  /** points: the index's rows in leaf order; leaf j holds rows start[j]..start[j+1]-1. */
  constructor(points: Float64Array, start: Int32Array, nLeaves: number, d: number, maxQueries: number) {
    if (!simdAvailable) throw new Error('WebAssembly SIMD is not available');
    const at = SimdLeafDots.layout(start, nLeaves, d, maxQueries);
    if (at.end * 8 > SIMD_MAX_BYTES) throw new RangeError('index too large for the WebAssembly KNN kernel');
    this.d = d;
    this.leafAt = at.leafAt;
    this.groups = at.groups;
    this.allAt = at.all;
    this.subAt = at.sub;
    this.tileAt = at.tile;
    this.kernel = takeKernel(at.end * 8);
    const heap = new Float64Array(this.kernel.memory.buffer);
    heap.fill(0, 0, at.end);
    for (let j = 0; j < nLeaves; j++) {
      const stride = 8 * this.groups[j];
      const o = this.leafAt[j];
      for (let r = start[j], c = 0; r < start[j + 1]; r++, c++) for (let t = 0; t < d; t++) heap[o + t * stride + c] = points[r * d + t];
    }
    this.dotsFn = this.kernel.exports.dots as SimdLeafDots['dotsFn'];
    this.all = heap.subarray(at.all, at.sub);
    this.sub = heap.subarray(at.sub, at.tile);
    this.tile = heap.subarray(at.tile, at.end);
  }

  /** Bytes of WebAssembly memory an index of these sizes takes. */
  static bytes(start: Int32Array, nLeaves: number, d: number, maxQueries: number): number {
    return SimdLeafDots.layout(start, nLeaves, d, maxQueries).end * 8;
  }

  /** Where each part goes, in doubles: the transposed leaves, the two query blocks, the tile. */
  private static layout(start: Int32Array, nLeaves: number, d: number, maxQueries: number) {
    const leafAt = new Int32Array(nLeaves);
    const groups = new Int32Array(nLeaves);
    let at = 0;
    let maxStride = 8;
    for (let j = 0; j < nLeaves; j++) {
      groups[j] = Math.max(1, Math.ceil((start[j + 1] - start[j]) / 8));
      leafAt[j] = at;
      at += d * 8 * groups[j];
      maxStride = Math.max(maxStride, 8 * groups[j]);
    }
    const all = at;
    const sub = all + (maxQueries + 1) * d;
    const tile = sub + (maxQueries + 1) * d;
    return { leafAt, groups, all, sub, tile, end: tile + (maxQueries + 1) * maxStride };
  }

  /** The dots of the first m rows of `all` (from = 'all') or `sub` with leaf j; returns the tile's row stride. */
  run(j: number, from: 'all' | 'sub', m: number): number {
    const groups = this.groups[j];
    this.dotsFn((from === 'all' ? this.allAt : this.subAt) * 8, (m + 1) >> 1, this.leafAt[j] * 8, this.d, groups, this.tileAt * 8);
    return 8 * groups;
  }

  /** Gives the memory to the next kernel of this thread; this one must not be used after. */
  release(): void {
    giveBack(this.kernel);
    this.kernel = null;
  }
}
