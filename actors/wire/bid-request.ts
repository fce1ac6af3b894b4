import { DmsError } from '../errors.js'
import type { BidRequest } from '../../machines/contracts.js'

export type { BidRequest }
/** Gossipsub topic on which job bid requests are published. */
export const BID_REQUEST_TOPIC = 'dms/jobs/bid-requests/1'

/** What a publisher gives: the requester is always the publishing node. */
export type BidRequestInit = Omit<BidRequest, 'requester'>

/**
 * Check a value is a BidRequest; throws an Error naming the first bad field. Returns
 * a new object of the known fields only: what a newer version adds is not passed on.
 */
export function validateBidRequest (value: unknown): BidRequest {
  const fail = (why: string): never => { throw new DmsError('BAD_JOB', `invalid bid request: ${why}`) }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) return fail('not a map')
  const bid = value as Record<string, unknown>
  if (typeof bid.jobId !== 'string' || bid.jobId.length === 0 || bid.jobId.length > 128) fail('jobId must be a string of 1-128 characters')
  const resources = bid.resources as Record<string, unknown> | undefined
  if (resources == null || typeof resources !== 'object') fail('resources missing')
  const positive = (name: string, v: unknown, allowZero: boolean): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) fail(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`)
  }
  positive('resources.cpuCores', resources!.cpuCores, false)
  positive('resources.memoryMb', resources!.memoryMb, false)
  if (resources!.diskMb !== undefined) positive('resources.diskMb', resources!.diskMb, true)
  if (resources!.gpus !== undefined) positive('resources.gpus', resources!.gpus, true)
  const price = bid.price as Record<string, unknown> | undefined
  if (price == null || typeof price !== 'object') fail('price missing')
  positive('price.max', price!.max, true)
  if (typeof price!.currency !== 'string' || !/^[A-Za-z0-9]{1,12}$/.test(price!.currency)) fail('price.currency must be 1-12 letters or digits')
  if (typeof bid.deadline !== 'number' || !Number.isInteger(bid.deadline) || bid.deadline <= 0) fail('deadline must be a time in ms since epoch')
  if (typeof bid.requester !== 'string' || bid.requester.length === 0 || bid.requester.length > 128) fail('requester must be a peer id')
  if (bid.labels !== undefined) {
    const labels = bid.labels as Record<string, unknown>
    if (labels == null || typeof labels !== 'object' || Array.isArray(labels)) fail('labels must be a map')
    const entries = Object.entries(labels)
    if (entries.length > 32) fail('at most 32 labels')
    for (const [k, v] of entries) if (k.length > 64 || typeof v !== 'string' || v.length > 256) fail(`label ${k} must be a short string`)
  }
  const known = bid as unknown as BidRequest
  const checked: BidRequest = {
    jobId: known.jobId,
    resources: { cpuCores: known.resources.cpuCores, memoryMb: known.resources.memoryMb },
    price: { max: known.price.max, currency: known.price.currency },
    deadline: known.deadline,
    requester: known.requester
  }
  if (known.resources.diskMb !== undefined) checked.resources.diskMb = known.resources.diskMb
  if (known.resources.gpus !== undefined) checked.resources.gpus = known.resources.gpus
  if (known.labels !== undefined) checked.labels = Object.fromEntries(Object.entries(known.labels))
  return checked
}
