// Background threads run below the event loop's scheduling priority. On a machine with few cores, a
// thread parsing an upload or fitting a grid, and V8's helper threads collecting or compiling for it,
// otherwise take the core the event loop needs: during a 6 MB upload the loop waited up to 25 ms at a
// time for a core (bench/uploads.ts). Niced, they weigh about a tenth of the loop with the kernel, so
// the loop gets a core sooner, and they still get every core nothing else wants. Linux only (a
// thread's nice value is its own there); elsewhere, or where the kernel refuses, every thread keeps
// the process's priority.
import fs from 'node:fs';
import os from 'node:os';

/** How many nice steps below the event loop background threads run (Linux's -20–19, higher yields more). */
const THREAD_NICENESS = 10;

/** The nice value background threads run at: the process's plus THREAD_NICENESS, at most 19. */
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
 * Called on the event loop's thread before any worker thread starts. V8's helper threads (Node names
 * them V8Worker; started with the process and shared by every isolate in it) run below the loop:
 * the marking, sweeping and compiling they do for a worker thread then waits for a core as the worker
 * does. They do the loop's concurrent marking and compiling too, now at the workers' priority; a
 * collection's pause still ends, as the thread that pauses does the pause's work itself when no
 * helper gets a core. libuv's thread pool (the loop's file system, DNS and crypto calls) is started
 * here if it is not yet: a pool thread takes the priority of the thread that first uses the pool,
 * and a worker thread's would leave the loop's own file system calls niced for good.
 */
export function prepareThreadsForBackgroundWork(): void {
  fs.stat(process.cwd(), () => {});
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
