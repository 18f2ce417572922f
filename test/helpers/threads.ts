// This process's threads as Linux lists them (/proc/self/task): name and nice value. Empty elsewhere.
import fs from 'node:fs';

export function processThreads(): { tid: number; name: string; nice: number }[] {
  let tids: string[];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  return tids.flatMap((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      return [{ tid: Number(tid), name, nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) }];
    } catch {
      return []; // ended meanwhile
    }
  });
}
