// test-runner: solo (25 daemon processes use both cores)
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFleet, publishJobs, receivedJobs } from '../support/fleet.js'
import type { Fleet, FleetMember } from '../support/fleet.js'
import { ControlClient } from '../../runtime/control/client.js'
import type { NodeStatus } from '../../runtime/events.js'

// Bid requests reach every node of a fleet that shares one IP address: 25
// `dms-net node` processes on 127.0.0.1, three hubs that the others bootstrap to.
// With gossipsub's default scoring, nodes past the tenth on one address were
// graylisted and this delivered nothing.

const NODES = 25
const JOBS = 5
let root = ''
let fleet: Fleet | undefined

test.before(async () => { root = await mkdtemp(join(tmpdir(), 'dms-scale-')) })
test.after(async () => {
  await fleet?.stop()
  await rm(root, { recursive: true, force: true })
})

test(`${JOBS} bid requests from one node reach all ${NODES - 1} others`, async () => {
  const started = Date.now()
  fleet = await startFleet({ root, nodes: NODES, hubs: 3 })
  assert.ok(Date.now() - started < 150_000, `all ${NODES} up in ${Date.now() - started} ms`)
  // gossipsub is best effort: a node outside every mesh gets a message only while it is gossiped (3 s).
  // Publish once every node has joined the bid-request mesh, as an operator sees with `dms-net status`.
  const inMesh = async (member: FleetMember): Promise<boolean> => {
    const client = await ControlClient.connect(join(root, member.name))
    try { return (await client.call<NodeStatus>('status')).jobs.some((j) => j.mesh > 0) } finally { client.close() }
  }
  const meshDeadline = Date.now() + 60_000
  let outside = fleet.members
  while (outside.length > 0 && Date.now() < meshDeadline) {
    outside = (await Promise.all(outside.map(async (m) => await inMesh(m) ? undefined : m))).filter((m): m is FleetMember => m != null)
    if (outside.length > 0) await new Promise((resolve) => setTimeout(resolve, 500))
  }
  assert.equal(outside.map((m) => m.name), [], 'every node joined the bid-request mesh')
  const publisher = fleet.members.at(-1)!
  const sent = await publishJobs(join(root, publisher.name), JOBS, 300)
  const receivers = fleet.members.filter((m) => m !== publisher)
  const missing = (): string[] => receivers.flatMap((m) => sent.filter((job) => !receivedJobs(m).has(job.jobId)).map((job) => `${m.name}:${job.jobId}`))
  const deadline = Date.now() + 45_000
  while (missing().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250))
  assert.equal(missing(), [], 'every node received every bid request')
  // each node logged each request once, with the publisher as the signed requester
  for (const member of receivers) {
    const lines = member.node.output().split('\n').filter((line) => line.includes('"job.received"')).map((line) => JSON.parse(line) as { from: string, bid: { jobId: string, requester: string } })
    assert.is(lines.length, JOBS, `${member.name} logged each job once`)
    const others = lines.filter((event) => event.from !== publisher.node.peerId || event.bid.requester !== publisher.node.peerId)
    assert.equal(others, [], `${member.name}: every job from the publisher ${publisher.node.peerId}`)
  }
})

test.run()
