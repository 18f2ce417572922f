// Background threads run below the event loop's scheduling priority. On a machine with few cores, a
// thread parsing an upload or fitting a grid, and V8's helper threads collecting or compiling for it,
// otherwise take the core the event loop needs: during a 6 MB upload the loop waited up to 25 ms at a
// time for a core (bench/uploads.ts). Niced, they give the core back as soon as the loop has work, and
// still get every core it leaves idle. Linux only (a thread's nice value is its own there); elsewhere,
// or where the kernel refuses, every thread keeps the process's priority.
import fs from 'node:fs';
import os from 'node:os';

/** How many nice steps below the event loop background threads run (on Linux's 0–19 scale). */
export const THREAD_NICENESS = 10;

/** The nice value background threads run at: the process's, lowered by THREAD_NICENESS. */
export function backgroundNice(): number {
  return Math.min(19, os.getPriority(process.pid) + THREAD_NICENESS);
}

/** Lowers a thread of this process to backgroundNice(), never raising it. */
function lower(tid: number): void {
  try {
    const target = backgroundNice();
    if (os.getPriority(tid) < target) os.setPriority(tid, target);
  } catch {
    // Gone, or not allowed: it keeps its priority.
  }
}

/** For a worker thread's entry: the calling thread runs below the event loop (threads it starts inherit it). */
export function runBelowEventLoop(): void {
  try {
    lower(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()));
  } catch {
    // No /proc/thread-self: not Linux.
  }
}

/**
 * V8's helper threads (Node names them V8Worker; started with the process, shared by every isolate in
 * it) run below the event loop: the marking, sweeping and compiling they do for a worker thread then
 * waits for a core as the worker does. The loop's own collections still finish: the loop does the
 * work of a pause itself when no helper runs.
 */
export function runV8HelpersBelowEventLoop(): void {
  let tasks: string[];
  try {
    tasks = fs.readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const tid of tasks) {
    try {
      if (fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'V8Worker') lower(Number(tid));
    } catch {
      // The thread ended meanwhile.
    }
  }
}
