import { UsageError } from '../command.js'
import type { Command } from '../command.js'
import { call, follow, output } from '../client-call.js'
import { countArg, jsonArg } from '../arguments.js'
import { shortId } from '../format.js'
import { safeText } from '../../../actors/messenger/safe-text.js'
import type { ReceivedJob } from '../../control/job-log.js'
import type { NodeEventMap } from '../../events.js'

export const publishJobCommand: Command = {
  name: 'publish-job',
  args: 'JSON',
  summary: 'Publish a job bid request on gossipsub.',
  help: 'example: dms-net publish-job \'{"jobId": "j1", "resources": {"cpuCores": 2, "memoryMb": 512}, "price": {"max": 5, "currency": "DMS"}, "deadline": 1900000000000}\'',
  positionals: { required: ['JSON'] },
  run: async (parsed) => {
    const bid = jsonArg('the bid request', parsed.positionals[0]!)
    const { validateBidRequest } = await import('../../../actors/wire/bid-request.js')
    try {
      validateBidRequest({ ...(bid as object), requester: 'self' })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    // seconds where milliseconds go (1900000000 is in January 1970) would publish a bid nobody can meet
    const { deadline } = bid as { deadline: number }
    if (deadline <= Date.now()) throw new UsageError(`deadline ${deadline} is in the past (${new Date(deadline).toISOString()}): it is milliseconds since the epoch`)
    const result = await call<{ recipients: number }>(parsed.dataDir, 'publishJob', { bid })
    output(parsed, result, () => `published to ${result.recipients} peer(s)`)
    return 0
  }
}

/** Cut to `width`, marking the cut. */
const cut = (text: string, width: number): string => text.length > width ? `${text.slice(0, width - 1)}…` : text

/** The columns' widths: 80 columns in all with their separators, so a listed row and a followed one align. */
const WIDTHS = [8, 11, 15, 16, 9, 11]

/** One line per job in 80 columns: when, who, what it needs and pays, by when (UTC); --json has every field whole. */
function jobRow (job: ReceivedJob): string {
  const { bid } = job
  const memory = bid.resources.memoryMb >= 1024 && bid.resources.memoryMb % 1024 === 0 ? `${bid.resources.memoryMb / 1024}GB` : `${bid.resources.memoryMb}MB`
  const needs = `${bid.resources.cpuCores}cpu ${memory}${bid.resources.gpus != null ? ` ${bid.resources.gpus}gpu` : ''}`
  return row([
    new Date(job.time).toISOString().slice(11, 19),
    safeText(bid.jobId, 40),
    shortId(job.from),
    needs,
    `${bid.price.max} ${safeText(bid.price.currency, 12)}`,
    new Date(bid.deadline).toISOString().slice(5, 16).replace('T', ' ')
  ])
}
const row = (cells: string[]): string => cells.map((cell, i) => cut(cell, WIDTHS[i]!).padEnd(WIDTHS[i]!)).join('  ').trimEnd()
const header = row(['TIME', 'JOB', 'FROM', 'NEEDS', 'MAX PRICE', 'DEADLINE'])

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'List the job bid requests this node received (newest last); --follow keeps printing new ones.',
  help: [
    '  --follow      keep running and print each new bid request',
    '  --limit N     how many recent requests to list (default 100)'
  ].join('\n'),
  options: { follow: { type: 'boolean', short: 'f' }, limit: { type: 'string' } },
  run: async (parsed) => {
    const limit = countArg('limit', parsed.values.limit, 100)
    const jobs = await call<ReceivedJob[]>(parsed.dataDir, 'jobs', limit != null ? { limit } : {})
    if (parsed.json) for (const job of jobs) output(parsed, job, () => '')
    else if (jobs.length > 0) output(parsed, null, () => [header, ...jobs.map(jobRow)].join('\n'))
    else if (parsed.values.follow !== true) output(parsed, null, () => '(no bid requests received yet)')
    if (parsed.values.follow !== true) return 0
    return await follow(parsed.dataDir, 'events', { types: ['job.received'] }, (item) => {
      const event = item as NodeEventMap['job.received']
      const job: ReceivedJob = { time: Date.now(), from: event.from, bid: event.bid }
      output(parsed, job, () => jobRow(job))
    })
  }
}
