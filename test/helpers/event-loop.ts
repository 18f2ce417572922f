// How long the event loop went without turning while `work` ran: a timer every `everyMs` records the
// longest gap between its ticks (a CPU-bound task on the loop shows up as a gap that long), and how
// many times it ticked.
import { performance } from 'node:perf_hooks';

export async function longestLoopGap<T>(work: () => Promise<T>, everyMs = 5): Promise<{ result: T; maxGap: number; ticks: number }> {
  let maxGap = 0;
  let ticks = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, everyMs);
  try {
    const result = await work();
    return { result, maxGap, ticks };
  } finally {
    clearInterval(timer);
  }
}
