// Threads as Linux lists them: this process's (/proc/self/task), with name and nice value, and the
// calling thread's nice value. Empty or NaN elsewhere.
import fs from 'node:fs';

/** name and nice from a /proc/…/stat line (the name, in parentheses, may hold spaces). */
function parseStat(stat: string): { name: string; nice: number } {
  return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
}

export function processThreads(): { tid: number; name: string; nice: number }[] {
  let tids: string[];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  return tids.flatMap((tid) => {
    try {
      return [{ tid: Number(tid), ...parseStat(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')) }];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/** The calling thread's nice value (NaN where there is no /proc/thread-self). */
export function ownNice(): number {
  try {
    return parseStat(fs.readFileSync('/proc/thread-self/stat', 'utf8')).nice;
  } catch {
    return NaN;
  }
}
