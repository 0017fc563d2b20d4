/**
 * The wall-clock `timeout` for one synchronous entry into an isolate, given the CPU the invocation has
 * left. isolated-vm can only stop a slice by wall time; on a busy host the thread gets less than a full
 * core, so a wall timeout equal to the CPU left would end tenants early (the adversarial suites saw good
 * workers with 2-3 ms of CPU end exceededCpu when the machine ran 6-9 runnable threads on 2 cores). The
 * thread's share of a core is learned from its own slices (CPU over wall time, summed over windows of at
 * least WINDOW_WALL_US so short slices count too) and the timeout is the CPU left divided by that share,
 * down to MIN_SHARE: a starved thread gets up to 2.5x the wall time. The cost is on the other side: when the
 * load eases faster than the estimate follows, a looping slice can use more CPU than it had left before
 * it is stopped; it is charged all of it (CPU is measured, not assumed), and the estimate catches up
 * within a few windows.
 *
 * Slices are short (tens of µs), so they rarely see the thread being preempted, while one preemption in
 * the wrong slice is what ends a tenant early. The kernel knows better: /proc/thread-self/schedstat counts
 * the time this thread ran and the time it waited to run; sampled every SCHED_SAMPLE_MS, its share of the
 * runnable time is the other estimate, and the smaller of the two is used.
 */
import { readFileSync } from 'node:fs';

const MIN_SHARE = 0.4;
const WINDOW_WALL_US = 5000;
const SCHED_SAMPLE_MS = 100;

export class SliceTimeout {
  #cpuPerWall = 1;
  #windowCpuUs = 0;
  #windowWallUs = 0;
  #schedShare = 1;
  #last: [number, number] | null = null;
  #sampler: NodeJS.Timeout | null = null;

  /** Also follow the kernel's account of this thread's waiting (Linux); call stop() when done. */
  followScheduler(): this {
    this.#sample();
    if (this.#last !== null) {
      this.#sampler = setInterval(() => this.#sample(), SCHED_SAMPLE_MS);
      this.#sampler.unref();
    }
    return this;
  }

  stop(): void {
    if (this.#sampler) clearInterval(this.#sampler);
  }

  /** Wall milliseconds a slice may run to use `remainingCpuMs` of CPU. */
  timeoutMs(remainingCpuMs: number): number {
    return remainingCpuMs / Math.min(this.#cpuPerWall, this.#schedShare);
  }

  #sample(): void {
    let ran: number;
    let waited: number;
    try {
      const [runNs, waitNs] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ');
      ran = Number(runNs);
      waited = Number(waitNs);
    } catch {
      return;
    }
    const last = this.#last;
    this.#last = [ran, waited];
    if (last === null) return;
    const runnable = ran - last[0] + (waited - last[1]);
    // Too little runnable time in the window to say anything: keep the estimate.
    if (runnable < 1_000_000) return;
    const share = Math.min(1, Math.max(MIN_SHARE, (ran - last[0]) / runnable));
    this.#schedShare = this.#schedShare * 0.5 + share * 0.5;
  }

  observe(cpuUs: number, wallUs: number): void {
    this.#windowCpuUs += cpuUs;
    this.#windowWallUs += wallUs;
    if (this.#windowWallUs < WINDOW_WALL_US) return;
    const share = Math.min(1, Math.max(MIN_SHARE, this.#windowCpuUs / this.#windowWallUs));
    this.#cpuPerWall = this.#cpuPerWall * 0.7 + share * 0.3;
    this.#windowCpuUs = 0;
    this.#windowWallUs = 0;
  }
}
