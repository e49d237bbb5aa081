/**
 * Group commit's queueing half: units submitted under a key go to one of a fixed number of lanes (the same
 * key always to the same lane). A lane hands its queue to `process` in batches of at most `maxBatch`, one
 * batch at a time, so while one batch is in flight newcomers gather into the next. `process` settles every
 * unit of its batch itself; an error it lets escape is a bug, logged by the caller's `onError`.
 */
export class LaneBatcher<Unit> {
  private readonly lanes: Array<{ queue: Unit[]; draining: boolean }>;

  constructor(
    laneCount: number,
    private readonly maxBatch: number,
    private readonly process: (batch: Unit[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {
    this.lanes = Array.from({ length: Math.max(1, laneCount) }, () => ({ queue: [], draining: false }));
  }

  push(key: string, unit: Unit): void {
    const lane = this.lanes[laneIndex(key, this.lanes.length)]!;
    lane.queue.push(unit);
    if (!lane.draining) void this.drain(lane);
  }

  private async drain(lane: { queue: Unit[]; draining: boolean }): Promise<void> {
    lane.draining = true;
    try {
      while (lane.queue.length > 0) {
        try {
          await this.process(lane.queue.splice(0, this.maxBatch));
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      lane.draining = false;
    }
  }
}

/** FNV-1a of the key, modulo the lane count. */
export function laneIndex(key: string, lanes: number): number {
  let hash = 2166136261;
  for (let index = 0; index < key.length; index++) hash = Math.imul(hash ^ key.charCodeAt(index), 16777619);
  return (hash >>> 0) % lanes;
}
