import type { NodeEventMap } from '../events.js'

/** A received bid request, as `dms-net jobs` lists it. */
export type ReceivedJob = NodeEventMap['job.received'] & { time: number }

/** The most recent bid requests a node received, newest last, at most `capacity`. */
export class JobLog {
  private readonly jobs: ReceivedJob[] = []

  constructor (private readonly capacity = 100) {}

  add (job: NodeEventMap['job.received']): void {
    this.jobs.push({ time: Date.now(), ...job })
    if (this.jobs.length > this.capacity) this.jobs.splice(0, this.jobs.length - this.capacity)
  }

  list (limit = this.capacity): ReceivedJob[] {
    return this.jobs.slice(-Math.max(0, limit))
  }
}
