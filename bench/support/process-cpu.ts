// CPU time of processes, from /proc: what a benchmark's participants (the console, the upstream,
// Postgres backends, the load generator) spend per request, which tells where a gateway's time goes
// on a machine whose cores they all share.
import { readdirSync, readFileSync } from "node:fs";

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream architecture.
const TICKS_PER_SECOND = 100;

export type TProcessTimes = { cpu: number; wait: number };

/**
 * User + system CPU seconds of one process (all its threads), and the seconds its main thread
 * spent runnable but waiting for a core (schedstat's run delay: the cost of a shared machine).
 * Zeros when it is gone.
 */
export function processTimes(pid: number): TProcessTimes {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces and parentheses).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const schedstat = readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ");
    return { cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND, wait: Number(schedstat[1]) / 1e9 };
  } catch {
    return { cpu: 0, wait: 0 };
  }
}

/** A process and all its descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * CPU and run-queue seconds of a set of processes between two readings. Processes that appear
 * later count from zero; one that exits in between loses its last stretch (a slight undercount).
 */
export function cpuMeter(listPids: () => number[] | Promise<number[]>) {
  const read = async () => new Map((await listPids()).map((pid) => [pid, processTimes(pid)] as const));
  return {
    start: async () => {
      const before = await read();
      return async (): Promise<TProcessTimes> => {
        const after = await read();
        const total = { cpu: 0, wait: 0 };
        for (const [pid, t] of after) {
          total.cpu += t.cpu - (before.get(pid)?.cpu ?? 0);
          total.wait += t.wait - (before.get(pid)?.wait ?? 0);
        }
        return total;
      };
    },
  };
}

/** The 1-minute load average, for the record next to every number. */
export function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}
