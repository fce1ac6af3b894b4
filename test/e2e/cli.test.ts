import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, access, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startDaemon } from '../support/cli.js'
import { eventually } from '../support/nodes.js'

let root = ''
const daemons: Array<{ stop: () => Promise<number | null> }> = []
test.before.each(async () => { root = await mkdtemp(join(tmpdir(), 'dms-cli-')) })
test.after.each(async () => {
  await Promise.allSettled(daemons.splice(0).map(async (d) => await d.stop()))
  await rm(root, { recursive: true, force: true })
})

test('id creates an identity once and prints the same peer id after', async () => {
  const first = await runCli(['id', '--data', join(root, 'a')])
  assert.is(first.code, 0)
  assert.match(first.stdout, /^12D3KooW\w+\n$/)
  assert.match(first.stderr, /created a new identity/)
  const second = await runCli(['id', '--data', join(root, 'a')])
  assert.is(second.stdout, first.stdout)
  assert.is(second.stderr, '')
})

test('node runs; status --json, dial, peers, send, publish-job work against it; SIGTERM stops it cleanly', async () => {
  const a = await startDaemon(['--data', join(root, 'a')])
  daemons.push(a)
  const b = await startDaemon(['--data', join(root, 'b'), '--json'])
  daemons.push(b)
  const aId = (await runCli(['id', '--data', join(root, 'a')])).stdout.trim()
  assert.match(a.output(), new RegExp(`dms-net node ${aId}`))

  const status = await runCli(['status', '--json', '--data', join(root, 'a')])
  assert.is(status.code, 0, status.stderr)
  const parsed = JSON.parse(status.stdout) as { peerId: string, host: { state: string, addresses: string[] } }
  assert.is(parsed.peerId, aId)
  assert.is(parsed.host.state, 'running')

  const dial = await runCli(['dial', parsed.host.addresses[0]!, '--data', join(root, 'b')])
  assert.is(dial.code, 0, dial.stderr)
  assert.match(dial.stdout, new RegExp(`connected to ${aId}`))
  await eventually('b lists a as identified', () => b.output().includes('peer.identified'), 5000)
  const peers = await runCli(['peers', '--json', '--data', join(root, 'b')])
  const list = JSON.parse(peers.stdout) as Array<{ peerId: string, state: string }>
  assert.ok(list.some((p) => p.peerId === aId && (p.state === 'identified' || p.state === 'connected')))
  assert.match((await runCli(['peers', '--data', join(root, 'b')])).stdout, /PEER\s+NETWORK\s+STATE/)

  // a has no handler for cli.note: the send is taken, a reports the unknown type in its log
  const sent = await runCli(['send', aId, 'cli.note', '{"hello":1}', '--data', join(root, 'b')])
  assert.is(sent.code, 0, sent.stderr)
  await eventually('a logs the unknown message type', () => /messenger\.error.*UNKNOWN_TYPE/.test(a.output()), 5000)
  const asked = await runCli(['send', aId, 'cli.ask', '{}', '--request', '--timeout', '3000', '--data', join(root, 'b')])
  assert.is(asked.code, 1)
  assert.match(asked.stderr, /UNKNOWN_TYPE/)

  const job = await runCli(['publish-job', JSON.stringify({ jobId: 'j1', resources: { cpuCores: 1, memoryMb: 64 }, price: { max: 1, currency: 'DMS' }, deadline: Date.now() + 60000 }), '--data', join(root, 'b')])
  assert.is(job.code, 0, job.stderr)
  assert.match(job.stdout, /published to \d+ peer/)

  assert.is(await a.stop(), 0)
  await assert.not.ok(await access(join(root, 'a', 'control.sock')).then(() => true, () => false), 'socket removed')
  const gone = await runCli(['status', '--data', join(root, 'a')])
  assert.is(gone.code, 1)
  assert.match(gone.stderr, /no node is running for data dir .* \(start one with: dms-net node --data/)
})

test('a second node on the same data dir is refused', async () => {
  const a = await startDaemon(['--data', join(root, 'a')])
  daemons.push(a)
  const again = await runCli(['node', '--data', join(root, 'a')], 20_000)
  assert.is(again.code, 1)
  assert.match(again.stderr, /another node is already running/)
})

for (const [args, pattern] of [
  [['frobnicate'], /unknown command "frobnicate"/],
  [['dial'], /dial needs TARGET/],
  [['dial', '/ip4/1.2.3.4/tcpp/1'], /bad multiaddr/],
  [['node', '--listen', 'nowhere'], /listen: not a multiaddr/],
  [['node', '--bootstrap', '/ip4/127.0.0.1/tcp/1'], /has no \/p2p/],
  [['status', '--verbose'], /Unknown option '--verbose'/],
  [['send', 'peer', 'type', '{}'], /PEER "peer" is not a peer id/],
  [['send', '12D3KooWMY9kQBxGDAnhZze85aQr9qouZZZcsX7nARc95UngPvYC', 'type', '{not json'], /not valid JSON/],
  [['send', '12D3KooWMY9kQBxGDAnhZze85aQr9qouZZZcsX7nARc95UngPvYC', 'bad type!', '{}'], /message type "bad type!" must be/],
  [['dial', '12D3KooW0OIl'], /TARGET "12D3KooW0OIl" is not a peer id/],
  [['ping', 'Qm12!'], /is not a peer id/],
  [['disconnect', 'x'], /is not a peer id/],
  [['receive'], /receive needs TYPE/],
  [['receive', 'chat', '--reply', '{'], /--reply is not valid JSON/],
  // JSON.parse quotes the text, line breaks and all: the whole reason stays on the one line printed
  [['receive', 'chat', '--reply', '{\n  "a": nope\n}'], /--reply is not valid JSON: Unexpected token 'o', .* is not valid JSON$/],
  [['jobs', '--limit', '0'], /--limit needs a whole number from 1 to 100/],
  [['publish-job', '{"jobId":""}'], /invalid bid request: jobId/],
  [['node', '--config', '/nonexistent/dms.json'], /cannot read --config/],
  [['completion', 'tcsh'], /completion is for bash, zsh or fish/],
  [['publish-job', '[1'], /not valid JSON/],
  [['publish-job', '{"jobId":"j","resources":{"cpuCores":1,"memoryMb":1},"price":{"max":1,"currency":"D"},"deadline":1900000000}'], /deadline 1900000000 is in the past \(1970-01-22T.*\): it is milliseconds since the epoch/],
  [['id', 'extra'], /unexpected argument "extra"/],
  [['node', '--relay-max-reservations', 'lots'], /--relay-max-reservations must be a positive whole number/],
  [['node', '--announce', '1.2.3.4:4001'], /discovery\.announce must be a list of multiaddrs/],
  [['node', '--dht', '--dht-prefix', 'dms'], /discovery\.dhtPrefix must look like \/dms/],
  [['node', '--rendezvous', 'bad name!'], /discovery\.rendezvous must be a name/],
  [['node', '--vpn-accept', 'nope'], /--vpn-accept: "nope" is not a peer id/],
  // a /p2p/ part that is no peer id: refused here, not dialled (and redialled) forever, nor a library's message
  [['node', '--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/xyz'], /"xyz" is not a peer id/],
  [['dial', '/ip4/127.0.0.1/tcp/1/p2p/notapeerid'], /"notapeerid" is not a peer id/],
  [['swarm', 'join', '--owner', '/ip4/127.0.0.1/tcp/1/p2p/xyz'], /"xyz" is not a peer id/],
  [['listen', '/ip4/127.0.0.1/udp/1'], /listens on TCP only \(no udp\)/],
  [['node', '--listen', '/ip4/127.0.0.1/tcp/0/ws'], /listens on TCP only \(no ws\)/],
  [['ping', '12D3KooWMY9kQBxGDAnhZze85aQr9qouZZZcsX7nARc95UngPvYC', '--count', '-1'], /--count needs a value; one that starts with '-' goes as --count=VALUE/],
  [['node', '--vpn-mtu', 'abc'], /--vpn-mtu needs a whole number from 1 to 65535 \(got "abc"\)/],
  [['events', '--type', 'peer.conected'], /no such event \(peer\.\*: peer\.discovered peer\.connected/],
  [['vpn', 'rule', 'add', '--from', '*', '--to', '*', '--proto', 'tcp', '--port', '10-5'], /--port 10-5: ports go from 1 to 65535, low to high/],
  [['vpn', 'rule', 'add', '--from', '*', '--to', '*', '--port', '80'], /--port goes with --proto tcp or udp/],
  // names are spelled right before the node is asked (whether they fit the subnet is the leader's to say)
  [['vpn', 'dns', 'add', 'Bad!', '10.88.0.2'], /NAME "Bad!": "bad!" is not a DNS label/],
  [['vpn', 'dns', 'add', 'web', '999.1.1.1'], /"999.1.1.1" is not an IPv4 address/],
  [['vpn', 'add', '12D3KooWMY9kQBxGDAnhZze85aQr9qouZZZcsX7nARc95UngPvYC', '--name', 'Bad Name'], /--name "Bad Name": "bad name" is not a DNS label/],
  [['vpn', 'start', '--subnet', '10.88.0.0/24', '--peers', '12D3KooWMY9kQBxGDAnhZze85aQr9qouZZZcsX7nARc95UngPvYC', '--domain', 'BAD DOMAIN!'], /--domain: bad domain "BAD DOMAIN!"/]
] as const) {
  test(`bad arguments exit 2 with one clear line: ${args.join(' ')}`, async () => {
    const result = await runCli([...args, '--data', join(root, 'x')])
    assert.is(result.code, 2, result.stderr)
    assert.match(result.stderr.split('\n')[0]!, pattern)
  })
}

test('a --config file carries VPN options (flags win); a bad one exits 2 naming the vpn key', async () => {
  const config = async (name: string, value: unknown): Promise<string> => {
    const path = join(root, name)
    await writeFile(path, JSON.stringify(value))
    return path
  }
  const cases: Array<[unknown, RegExp]> = [
    [{ vpn: [] }, /vpn must be an object of VPN options/],
    [{ vpn: { colour: 'red' } }, /unknown vpn option "colour" \(known: device, mtu/],
    [{ vpn: { mtu: '9000' } }, /vpn\.mtu must be a number/],
    [{ vpn: { offload: 'no' } }, /vpn\.offload must be true or false/],
    [{ vpn: { acceptFrom: [1] } }, /vpn\.acceptFrom must be "any" or a list of peer ids/],
    [{ vpn: { acceptFrom: ['12D3KooWnope'] } }, /vpn\.acceptFrom: "12D3KooWnope" is not a peer id/],
    [{ vpn: { mtu: 70000 } }, /mtu must be a whole number from 576 to 65535/],
    [{ vpn: { device: 'a-name-far-too-long-for-tun' } }, /device/]
  ]
  for (const [i, [value, pattern]] of cases.entries()) {
    const result = await runCli(['node', '--config', await config(`bad${i}.json`, value), '--data', join(root, `bad${i}`)])
    assert.is(result.code, 2, `${JSON.stringify(value)}: ${result.stderr}`)
    assert.match(result.stderr.split('\n')[0]!, pattern, JSON.stringify(value))
  }
  const good = await config('good.json', { vpn: { device: 'dmsvpncfg', mtu: 9000, acceptFrom: 'any' } })
  const node = await startDaemon(['--data', join(root, 'good'), '--config', good, '--vpn-mtu', '8000'])
  daemons.push(node)
  const status = JSON.parse((await runCli(['vpn', 'status', '--json', '--data', join(root, 'good')])).stdout) as { device: string, mtu: number }
  assert.equal([status.device, status.mtu], ['dmsvpncfg', 8000], 'the device from the file, the MTU from the flag')
})

test('completion scripts name every command; bash completes a subcommand', async () => {
  const script = await runCli(['completion', 'bash'])
  assert.is(script.code, 0)
  for (const name of ['node', 'receive', 'jobs', 'events', 'swarm', 'vpn']) assert.match(script.stdout, new RegExp(`\\b${name}\\b`))
  const zsh = await runCli(['completion', 'zsh'])
  assert.match(zsh.stdout, /^#compdef dms-net/)
  const { execFile } = await import('node:child_process')
  const completed = await new Promise<string>((resolve) => {
    execFile('bash', ['-c', `source /dev/stdin <<'EOF'\n${script.stdout}\nEOF\nCOMP_WORDS=(dms-net swarm cr); COMP_CWORD=2; _dms_net; echo "\${COMPREPLY[@]}"`], (_err, stdout) => { resolve(stdout.trim()) })
  })
  assert.is(completed, 'create')
})

test('--help works on every command', async () => {
  const overview = await runCli(['--help'])
  assert.is(overview.code, 0)
  for (const name of ['node', 'status', 'send', 'demo']) {
    assert.match(overview.stdout, new RegExp(`\\n  ${name} `))
    const help = await runCli([name, '--help'])
    assert.is(help.code, 0)
    assert.match(help.stdout, new RegExp(`usage: dms-net ${name}`))
  }
})

test('demo runs to completion without a terminal and says what it did', async () => {
  const demo = await runCli(['demo'], 60_000)
  assert.is(demo.code, 0, demo.stdout + demo.stderr)
  assert.match(demo.stdout, /carol got {2}".*hello carol/)
  assert.match(demo.stdout, /math\.sum \[19, 23\] → 42/)
  assert.match(demo.stdout, /bob and carol received job demo-job/)
  assert.match(demo.stdout, /demo finished/)
  assert.not.match(demo.stdout, /\x1b\[/, 'plain output when not a TTY')
})

test.run()
