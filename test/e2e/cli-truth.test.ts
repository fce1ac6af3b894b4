// The operator's CLI tells the truth about what happened: a dial to a peer already connected says so,
// a dial to where another peer listens fails and says who was not there, disconnecting a peer with no
// connection and asking for an event type that does not exist exit non-zero, listening twice on one
// address names this node, and a member that left shows role none.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startDaemon } from '../support/cli.js'

let root = ''
const daemons: Array<Awaited<ReturnType<typeof startDaemon>>> = []
const dirs: Record<string, string> = {}

async function daemon (name: string): Promise<{ address: string, peerId: string }> {
  dirs[name] = join(root, name)
  const started = await startDaemon(['--data', dirs[name]!, '--listen', '/ip4/127.0.0.1/tcp/0'])
  daemons.push(started)
  const address = /listening on (\S+)/.exec(started.output())![1]!
  return { address, peerId: started.peerId }
}

test.before(async () => { root = await mkdtemp(join(tmpdir(), 'dms-cli-truth-')) })
test.after(async () => {
  await Promise.allSettled(daemons.map(async (d) => await d.stop()))
  await rm(root, { recursive: true, force: true })
})

test('dial: already connected says so; the address asked for is tried, and a wrong one fails', async () => {
  const a = await daemon('a')
  const b = await daemon('b')
  const c = await daemon('c')
  const first = await runCli(['dial', b.address, '--data', dirs.a!])
  assert.is(first.code, 0, first.stderr)
  assert.match(first.stdout, /^connected to /)
  const again = await runCli(['dial', b.address, '--data', dirs.a!])
  assert.is(again.code, 0, again.stderr)
  assert.match(again.stdout, new RegExp(`^already connected to ${b.peerId} via`))
  // C's port with B's id: libp2p would answer with the connection to B it has; the address is tried instead
  const port = /\/tcp\/(\d+)/.exec(c.address)![1]
  const wrong = await runCli(['dial', `/ip4/127.0.0.1/tcp/${port}/p2p/${b.peerId}`, '--data', dirs.a!])
  assert.is.not(wrong.code, 0, wrong.stdout)
  assert.not.match(wrong.stderr, /key mismatch/)
  void a
})

test('peer ids: any unique prefix, and the short form peers prints, are taken; --full prints whole ids', async () => {
  const peers = JSON.parse((await runCli(['peers', '--json', '--data', dirs.a!])).stdout) as Array<{ peerId: string }>
  const target = peers[0]!.peerId
  const full = await runCli(['peers', '--full', '--data', dirs.a!])
  assert.match(full.stdout, new RegExp(`^${target}( \\(bootstrap\\))?\\n  public, \\w+, \\d+ connection`, 'm'), 'whole ids, each on its line, the facts under it')
  assert.ok(full.stdout.split('\n').every((line) => line.length <= 80), 'within 80 columns')
  const short = /(\S+…\S+)/.exec((await runCli(['peers', '--data', dirs.a!])).stdout)![1]!
  for (const given of [target.slice(0, 14), short]) {
    const pinged = await runCli(['ping', given, '--count', '1', '--data', dirs.a!])
    assert.is(pinged.code, 0, `${given}: ${pinged.stderr}`)
    assert.match(pinged.stdout, new RegExp(`pong from ${target.slice(0, 10)}…${target.slice(-4)}: [0-9.]+ ms via /ip4/127.0.0.1/tcp/\\d+ \\(direct\\)`))
  }
  const ambiguous = await runCli(['ping', '12D3KooW', '--count', '1', '--data', dirs.a!])
  assert.is(ambiguous.code, 2)
  assert.match(ambiguous.stderr, /could be any of|is not a peer id/)
  const unknown = await runCli(['ping', '12D3KooWzzzz', '--count', '1', '--data', dirs.a!])
  assert.is(unknown.code, 2)
  assert.match(unknown.stderr, /no peer this node knows/)
})

test('disconnect of a peer with no connection exits non-zero in one line and leaves no ghost row', async () => {
  const stranger = '12D3KooWRnhfNPCsy3ebbMpmhDw8EEKmSWH3C39qFtf5Mu7Ye6i3'
  const result = await runCli(['disconnect', stranger, '--data', dirs.a!])
  assert.is(result.code, 1)
  assert.match(result.stderr.trim(), /not connected/)
  assert.is(result.stderr.trim().split('\n').length, 1)
  const status = await runCli(['status', '--json', '--data', dirs.a!])
  assert.not.ok((JSON.parse(status.stdout) as { peers: Array<{ peerId: string }> }).peers.some((p) => p.peerId === stranger))
})

test('events --type with an unknown type exits 2 at once, naming it', async () => {
  const started = Date.now()
  const result = await runCli(['events', '--type', 'bogus.type', '--data', dirs.a!], 10_000)
  assert.is(result.code, 2)
  assert.match(result.stderr, /bogus\.type: no such event/)
  assert.ok(Date.now() - started < 5000)
})

test('listen on an address this node already listens on names this node', async () => {
  const status = JSON.parse((await runCli(['status', '--json', '--data', dirs.a!])).stdout) as { host: { addresses: string[] } }
  const own = status.host.addresses[0]!.replace(/\/p2p\/[^/]+$/, '')
  const result = await runCli(['listen', own, '--data', dirs.a!])
  assert.is.not(result.code, 0)
  assert.match(result.stderr, /this node already listens/)
})

test('swarm leave: role none', async () => {
  const owner = await daemon('owner')
  const member = await daemon('member')
  assert.is((await runCli(['swarm', 'create', '--authorise', member.peerId, '--data', dirs.owner!])).code, 0)
  const joined = await runCli(['swarm', 'join', '--owner', owner.address, '--data', dirs.member!], 30_000)
  assert.is(joined.code, 0, joined.stderr)
  const left = await runCli(['swarm', 'leave', '--data', dirs.member!], 30_000)
  assert.is(left.code, 0, left.stderr)
  assert.match(left.stdout, /role\s+none/)
})

// as root only: another user is made with setpriv
if (process.getuid?.() === 0) {
  test('a user who may not reach the node\'s socket is told that, not that no node runs', async () => {
    const { execFile } = await import('node:child_process')
    const cli = new URL('../../bin/dms-net.js', import.meta.url).pathname
    const result = await new Promise<{ code: number, stderr: string }>((resolve) => {
      execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, cli, 'status', '--data', dirs.a!], { timeout: 20_000 }, (error, _stdout, stderr) => {
        resolve({ code: error == null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr })
      })
    })
    assert.is(result.code, 1, result.stderr)
    assert.match(result.stderr, /permission denied on the control socket .*belongs to another user/)
    assert.not.match(result.stderr, /no node is running/)
  })
}

test.run()
