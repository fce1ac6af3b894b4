import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, startDaemon } from '../support/cli.js'
import type { RunningCli } from '../support/cli.js'
import { eventually } from '../support/nodes.js'

// An operator at the CLI of node A receives what node B sends: typed messages
// (answering requests with --reply), job bid requests, and the node's events.

let root = ''
let aId = ''
let bId = ''
const daemons: Array<{ stop: () => Promise<number | null>, output: () => string }> = []
const clients: RunningCli[] = []
const dataA = (): string => join(root, 'a')
const dataB = (): string => join(root, 'b')

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dms-operator-'))
  const a = await startDaemon(['--data', dataA()])
  daemons.push(a)
  aId = a.peerId
  const address = /listening on (\S+)/.exec(a.output())![1]!
  const b = await startDaemon(['--data', dataB(), '--bootstrap', address])
  daemons.push(b)
  bId = b.peerId
  await eventually('b is connected to a', () => /peer\.identified/.test(b.output()), 10_000)
})
test.after.each(async () => { await Promise.allSettled(clients.splice(0).map(async (c) => await c.stop())) })
test.after(async () => {
  await Promise.allSettled(daemons.splice(0).map(async (d) => await d.stop()))
  await rm(root, { recursive: true, force: true })
})

const receive = async (args: string[]): Promise<RunningCli> => {
  const client = startCli(['receive', ...args, '--data', dataA()])
  clients.push(client)
  // the banner is printed once the daemon has taken the subscription
  await eventually('receive is subscribed', () => client.stderr().includes('receiving'), 5000)
  return client
}

test('the docs/cli.md example: send chat.message, the other operator sees it with receive', async () => {
  const inbox = await receive(['chat.message'])
  const sent = await runCli(['send', aId, 'chat.message', '{"text":"hi"}', '--data', dataB()])
  assert.is(sent.code, 0, sent.stderr)
  const out = await inbox.waitFor(/chat\.message from/)
  assert.match(out, /chat\.message from 12D3KooW\S+: \{"text":"hi"\}/)
  assert.not.match(daemons[0]!.output(), /UNKNOWN_TYPE.*chat\.message/, 'the daemon handled it, no unknown-type error')
})

test('receive --json prints one JSON line per message, with the sender', async () => {
  const inbox = await receive(['chat.message', 'chat.other', '--json'])
  await runCli(['send', aId, 'chat.other', '{"n":1}', '--data', dataB()])
  await runCli(['send', aId, 'chat.message', '{"n":2}', '--data', dataB()])
  await inbox.waitFor(/"n":2/)
  const lines = inbox.stdout().trim().split('\n').map((line) => JSON.parse(line) as { type: string, kind: string, from: string, body: { n: number } })
  assert.equal(lines.map((l) => [l.type, l.kind, l.from, l.body.n]), [['chat.other', 'msg', bId, 1], ['chat.message', 'msg', bId, 2]])
})

test('receive --reply answers requests; without --reply a request is refused at once with NO_REPLY', async () => {
  const silent = await receive(['job.status'])
  const refused = await runCli(['send', aId, 'job.status', '{"jobId":"j1"}', '--request', '--timeout', '5000', '--data', dataB()])
  assert.is(refused.code, 1)
  assert.match(refused.stderr, /NO_REPLY/)
  await silent.waitFor(/request \(refused: no --reply\)/)
  await silent.stop()

  const answering = await receive(['job.status', '--reply', '{"state":"running"}', '--json'])
  const asked = await runCli(['send', aId, 'job.status', '{"jobId":"j1"}', '--request', '--data', dataB()])
  assert.is(asked.code, 0, asked.stderr)
  assert.equal(JSON.parse(asked.stdout), { state: 'running' })
  const seen = JSON.parse((await answering.waitFor(/replied/)).trim()) as { kind: string, replied: boolean, body: unknown }
  assert.equal([seen.kind, seen.replied, seen.body], ['req', true, { jobId: 'j1' }])
})

test('when the last receiver leaves, the type is unhandled again; a feature\'s type cannot be taken', async () => {
  const inbox = await receive(['chat.once'])
  assert.is(await inbox.stop(), 0, 'Ctrl-C exits 0')
  await new Promise((resolve) => setTimeout(resolve, 300))
  await runCli(['send', aId, 'chat.once', '{}', '--data', dataB()])
  await eventually('a reports the unknown type again', () => /UNKNOWN_TYPE.*chat\.once/.test(daemons[0]!.output()), 5000)

  const taken = startCli(['receive', 'vpn.table', '--data', dataA()])
  clients.push(taken)
  assert.is(await taken.exited, 1)
  assert.match(taken.stderr(), /vpn\.table are already handled by this node/)
})

test('bid requests: the daemon prints job.received, jobs lists them, jobs --follow and events --type stream them', async () => {
  const follow = startCli(['jobs', '--follow', '--json', '--data', dataA()])
  const events = startCli(['events', '--type', 'job.received', '--json', '--data', dataA()])
  clients.push(follow, events)
  await new Promise((resolve) => setTimeout(resolve, 800))
  const bid = { jobId: 'render-42', resources: { cpuCores: 2, memoryMb: 512 }, price: { max: 5, currency: 'DMS' }, deadline: Date.now() + 60_000 }
  const published = await runCli(['publish-job', JSON.stringify(bid), '--json', '--data', dataB()])
  assert.is(published.code, 0, published.stderr)
  assert.ok((JSON.parse(published.stdout) as { recipients: number }).recipients >= 1)

  const followed = JSON.parse((await follow.waitFor(/render-42/)).trim().split('\n').at(-1)!) as { from: string, bid: { jobId: string, requester: string } }
  assert.equal([followed.from, followed.bid.jobId, followed.bid.requester], [bId, 'render-42', bId])
  const event = JSON.parse((await events.waitFor(/render-42/)).trim()) as { type: string, from: string }
  assert.equal([event.type, event.from], ['job.received', bId])
  await eventually('the daemon logs job.received', () => /job\.received.*render-42/.test(daemons[0]!.output()), 5000)

  // a long id, GPUs and a long currency: the row is cut to 80 columns, not widened
  const wide = { jobId: 'a-very-long-job-identifier-0123456789', resources: { cpuCores: 64, memoryMb: 262144, gpus: 8 }, price: { max: 12345.5, currency: 'DMSTOKEN' }, deadline: Date.now() + 60_000 }
  assert.is((await runCli(['publish-job', JSON.stringify(wide), '--data', dataB()])).code, 0)
  await follow.waitFor(/a-very-long-job/)
  const listed = await runCli(['jobs', '--data', dataA()])
  assert.match(listed.stdout, /TIME\s+JOB\s+FROM/)
  assert.match(listed.stdout, /render-42\s+12D3KooW\S+\s+2cpu 512MB\s+5 DMS/)
  assert.match(listed.stdout, /a-very-lon…\s+12D3KooW\S+\s+64cpu 256GB 8gpu\s+12345\.5 …/)
  for (const line of listed.stdout.trimEnd().split('\n')) assert.ok(line.length <= 80, `${line.length} columns: ${line}`)
  const asJson = (await runCli(['jobs', '--json', '--data', dataA()])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { bid: { jobId: string } })
  assert.ok(asJson.some((job) => job.bid.jobId === 'render-42'))
})

test('events streams connection events; --json on the one-shot commands', async () => {
  const events = startCli(['events', '--json', '--data', dataA()])
  clients.push(events)
  await new Promise((resolve) => setTimeout(resolve, 800))
  const dropped = await runCli(['disconnect', bId, '--json', '--data', dataA()])
  assert.is(dropped.code, 0, dropped.stderr)
  assert.ok((JSON.parse(dropped.stdout) as { closed: number }).closed >= 1)
  await events.waitFor(/"type":"peer\.disconnected"/)
  // b bootstraps to a: it comes back
  await events.waitFor(/"type":"peer\.connected"/, 15_000)
  const ping = await runCli(['ping', bId, '--count', '1', '--json', '--data', dataA()])
  assert.is(ping.code, 0, ping.stderr)
  const rtt = JSON.parse(ping.stdout) as { peer: string, rttMs: number[] }
  assert.is(rtt.peer, bId)
  assert.ok(rtt.rttMs[0]! >= 0 && rtt.rttMs[0]! < 5000)
  const id = JSON.parse((await runCli(['id', '--json', '--data', dataA()])).stdout) as { peerId: string }
  assert.is(id.peerId, aId)
})

test('a node that stops ends receive and events with exit 1 and a message', async () => {
  const c = await startDaemon(['--data', join(root, 'c')])
  const inbox = startCli(['receive', 'x.y', '--data', join(root, 'c')])
  clients.push(inbox)
  await new Promise((resolve) => setTimeout(resolve, 800))
  await c.stop()
  assert.is(await inbox.exited, 1)
  assert.match(inbox.stderr(), /the node stopped/)
})

test.run()
