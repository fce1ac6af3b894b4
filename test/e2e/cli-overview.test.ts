// test-needs: tmux zsh fish
// The operator's overview and tools against real daemons: status shows the hosts, the swarm role and each
// peer's path; ping takes an alias, a prefix or a VPN IP and says the path; netcheck says ok or what to fix;
// aliases and the saved config live in the data dir; errors under --json are JSON on stderr; completion
// offers peers and event types; help, status, peers and the node log fit 80 columns in a real terminal.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliPath, runCli, startCli, startDaemon } from '../support/cli.js'

let root = ''
const daemons: Array<Awaited<ReturnType<typeof startDaemon>>> = []
const dirs: Record<string, string> = {}
const peers: Record<string, { address: string, peerId: string }> = {}

async function daemon (name: string, extra: string[] = []): Promise<{ address: string, peerId: string }> {
  dirs[name] = join(root, name)
  const started = await startDaemon(['--data', dirs[name]!, '--listen', '/ip4/127.0.0.1/tcp/0', ...extra])
  daemons.push(started)
  peers[name] = { address: /listening on (\S+)/.exec(started.output())![1]!, peerId: started.peerId }
  return peers[name]!
}

const widest = (text: string): number => Math.max(0, ...text.split('\n').map((line) => line.length))

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dms-cli-overview-'))
  const a = await daemon('a')
  await daemon('b', ['--bootstrap', a.address, '--log-file', join(root, 'b.log')])
})
test.after(async () => {
  await Promise.allSettled(daemons.map(async (d) => await d.stop()))
  spawnSync('tmux', ['kill-server'], { stdio: 'ignore', env: { ...process.env, TMUX_TMPDIR: root } })
  await rm(root, { recursive: true, force: true })
})

test('aliases: set, used wherever a PEER is, listed, removed; a bad name exits 2', async () => {
  const set = await runCli(['alias', 'set', 'hub', peers.a!.peerId.slice(0, 16), '--data', dirs.b!])
  assert.is(set.code, 0, set.stderr)
  assert.match(set.stdout, new RegExp(`hub → ${peers.a!.peerId}`))
  const stored = JSON.parse(await readFile(join(dirs.b!, 'aliases.json'), 'utf8')) as Record<string, string>
  assert.equal(stored, { hub: peers.a!.peerId })
  assert.match((await runCli(['alias', '--data', dirs.b!])).stdout, /hub\s+12D3KooW/)
  for (const bad of [['alias', 'set', 'Bad Name', peers.a!.peerId], ['alias', 'set', '12D3KooWx', peers.a!.peerId], ['alias', 'remove', 'nobody'], ['alias', 'frob']]) {
    const refused = await runCli([...bad, '--data', dirs.b!])
    assert.is(refused.code, 2, `${bad.join(' ')}: ${refused.stderr}`)
  }
  assert.match((await runCli(['peers', '--data', dirs.b!])).stdout, /^hub \(bootstrap\)\s+public/m)
  assert.match((await runCli(['peers', '--full', '--data', dirs.b!])).stdout, new RegExp(`^${peers.a!.peerId} \\(hub\\) \\(bootstrap\\)$`, 'm'), '--full: the whole id and its alias')
  // Object's own members are no aliases: never resolved, never stored
  for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    const taken = await runCli(['ping', name, '--count', '1', '--data', dirs.b!])
    assert.is(taken.code, 2, `${name}: ${taken.stdout}${taken.stderr}`)
    assert.match(taken.stderr, /is not a peer id or alias/)
    assert.is((await runCli(['alias', 'set', 'x', name, '--data', dirs.b!])).code, 2)
  }
  assert.equal(JSON.parse(await readFile(join(dirs.b!, 'aliases.json'), 'utf8')), { hub: peers.a!.peerId })
  // a prefix, or the own id, with the trouble named: no node is exit 1, this node's own id exit 2
  assert.is((await runCli(['ping', '12D3KooWQw', '--data', join(root, 'none')])).code, 1)
  const self = await runCli(['ping', peers.b!.peerId, '--count', '1', '--data', dirs.b!])
  assert.is(self.code, 2)
  assert.match(self.stderr, /this node's own id/)
  // a 100 kB argument is cut in the error line
  const long = await runCli(['ping', `12D3KooW${'x'.repeat(100_000)}`, '--data', dirs.b!])
  assert.is(long.code, 2)
  assert.ok(long.stderr.length < 1000, `${long.stderr.length} characters`)
  await writeFile(join(dirs.b!, 'aliases.json'), '{ "hub": ')
  const corrupt = await runCli(['ping', 'hub', '--data', dirs.b!])
  assert.is(corrupt.code, 2)
  assert.match(corrupt.stderr, /aliases\.json is not valid JSON/)
  await writeFile(join(dirs.b!, 'aliases.json'), JSON.stringify({ hub: peers.a!.peerId }))
})

test('ping: an alias, sub-millisecond times, the path; JSON shape; an unknown VPN IP exits 2', async () => {
  const pinged = await runCli(['ping', 'hub', '--count', '2', '--data', dirs.b!])
  assert.is(pinged.code, 0, pinged.stderr)
  const port = /\/tcp\/(\d+)/.exec(peers.a!.address)![1]!
  assert.match(pinged.stdout, new RegExp(`pong from 12D3KooW\\S+: \\d+\\.\\d{3} ms via /ip4/127\\.0\\.0\\.1/tcp/${port} \\(direct\\)`))
  assert.match(pinged.stdout, /2 sent, 2 received, 0% lost; rtt min\/avg\/max [\d.]+\/[\d.]+\/[\d.]+ ms/)
  const json = JSON.parse((await runCli(['ping', 'hub', '--count', '1', '--json', '--data', dirs.b!])).stdout) as Record<string, unknown>
  assert.equal(Object.keys(json).sort(), ['peer', 'received', 'relayed', 'rttMs', 'sent', 'via'])
  assert.is(json.peer, peers.a!.peerId)
  assert.is(json.relayed, false)
  assert.ok((json.rttMs as number[])[0]! > 0 && (json.rttMs as number[])[0]! < 1000)
  const noVpn = await runCli(['ping', '10.77.0.9', '--data', dirs.b!])
  assert.is(noVpn.code, 2)
  assert.match(noVpn.stderr, /10\.77\.0\.9 is no member of this node's VPN/)
})

test('ping: Ctrl-C prints the summary; a peer that is gone is a loss, exit 1', async () => {
  const running = startCli(['ping', 'hub', '--count', '50', '--data', dirs.b!])
  await running.waitFor(/pong from/)
  assert.is(await running.stop(), 0)
  assert.match(running.stdout(), /\d+ sent, \d+ received, 0% lost/)
  const stranger = await daemon('gone')
  await runCli(['dial', stranger.address, '--data', dirs.b!])
  await daemons.pop()!.stop()
  const lost = await runCli(['ping', stranger.peerId, '--count', '1', '--data', dirs.b!], 60_000)
  assert.is(lost.code, 1, lost.stdout)
  assert.match(lost.stderr, /no reply from 12D3KooW/)
  assert.match(lost.stdout, /1 sent, 0 received, 100% lost/)
})

test('status: hosts, addresses and each peer with its path, within 80 columns; --json adds swarm and vpn', async () => {
  const text = await runCli(['status', '--data', dirs.b!])
  assert.is(text.code, 0, text.stderr)
  assert.match(text.stdout, /^host\s+running, public network$/m)
  assert.match(text.stdout, new RegExp(`^hub\\s+public\\s+identified\\s+direct 127\\.0\\.0\\.1:${/\/tcp\/(\d+)/.exec(peers.a!.address)![1]!} out`, 'm'))
  assert.ok(widest(text.stdout) <= 80, text.stdout)
  // narrower than a peer id beside its label: the id goes under the label, whole
  const narrow = await runCli(['status', '--data', dirs.b!], 30_000, { COLUMNS: '60' })
  assert.ok(widest(narrow.stdout) <= 60, narrow.stdout)
  assert.match(narrow.stdout, /^peer id\n  12D3KooW\S{44}$/m)
  const json = JSON.parse((await runCli(['status', '--json', '--data', dirs.b!])).stdout) as { swarm: { role: string }, vpn: { role: string }, peers: Array<{ peerId: string, links: Array<{ direction: string, relayed: boolean }> }> }
  assert.is(json.swarm.role, 'none')
  assert.is(json.vpn.role, 'none')
  const hub = json.peers.find((p) => p.peerId === peers.a!.peerId)!
  assert.equal(hub.links.map((l) => [l.direction, l.relayed]), [['outbound', false]])
})

test('a swarm member\'s status shows its private host and role, not only a stopped public host', async () => {
  const member = await daemon('member')
  assert.is((await runCli(['swarm', 'create', '--authorise', member.peerId, '--data', dirs.a!])).code, 0)
  const joined = await runCli(['swarm', 'join', '--owner', peers.a!.address, '--data', dirs.member!], 30_000)
  assert.is(joined.code, 0, joined.stderr)
  const text = (await runCli(['status', '--data', dirs.member!])).stdout
  assert.match(text, /^private\s+running, private swarm$/m)
  assert.match(text, /^\s+\/ip4\/127\.0\.0\.1\/tcp\/\d+/m)
  assert.match(text, new RegExp(`^swarm\\s+member of ${peers.a!.peerId.slice(0, 10)}`, 'm'))
  assert.match(text, /\bprivate\s+(connected|identified)\s+direct 127\.0\.0\.1:\d+/)
  assert.ok(widest(text) <= 80, text)
  // its private host holds a slot on the owner's relay: discovery says so, not "relay off"
  const reserved = new RegExp(`discovery private:[\\s\\S]*relay reserved on ${peers.a!.peerId.slice(0, 10)}`)
  let overview = text
  for (const deadline = Date.now() + 15_000; !reserved.test(overview) && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    overview = (await runCli(['status', '--data', dirs.member!])).stdout
  }
  assert.match(overview, reserved)
  assert.is((await runCli(['swarm', 'leave', '--data', dirs.member!], 30_000)).code, 0)
})

test('netcheck: each line ok or what to fix; the clock against a peer; --json; a bad STUN server fails', async () => {
  const text = await runCli(['netcheck', '--data', dirs.b!])
  assert.is(text.code, 0, text.stdout + text.stderr)
  assert.match(text.stdout, /^ok {4}node {4}node \(pid \d+\): public host running$/m)
  assert.match(text.stdout, /^ok {4}clock {3}\d+\.\d s (behind|ahead of) 12D3KooW/m)
  assert.match(text.stdout, /^(ok {4}|FAIL {2})tun /m)
  assert.match(text.stdout, /^-- {4}nat {5}NAT type unknown: no STUN server\n {14}fix: /m)
  assert.ok(widest(text.stdout) <= 80, text.stdout)
  const json = JSON.parse((await runCli(['netcheck', '--json', '--data', dirs.b!])).stdout) as { checks: Array<{ name: string, status: string }> }
  assert.equal(json.checks.map((c) => c.name).sort(), ['cap', 'clock', 'ip', 'nat', 'nft', 'node', 'reach', 'relay', 'tun'])
  assert.ok(json.checks.every((c) => ['ok', 'warn', 'fail', 'skip'].includes(c.status)))
  const refused = await runCli(['netcheck', '--stun', '127.0.0.1:1', '--data', dirs.b!])
  assert.is(refused.code, 1)
  assert.match(refused.stdout, /^FAIL {2}nat {5}no STUN answer from 127\.0\.0\.1:1/m)
  assert.is((await runCli(['netcheck', '--stun', 'nope', '--data', dirs.b!])).code, 2)
  const noNode = await runCli(['netcheck', '--data', join(root, 'none')])
  assert.match(noNode.stdout, /^-- {4}node {4}no node runs for/m)
})

test('config: set, get, unset, show; bad keys and values exit 2; node starts with the saved options', async () => {
  const dir = join(root, 'saved')
  assert.is((await runCli(['config', 'set', 'listen', '/ip4/127.0.0.1/tcp/0', '--data', dir])).code, 0)
  assert.is((await runCli(['config', 'set', 'networkName', 'saved-net', '--data', dir])).code, 0)
  assert.is((await runCli(['config', 'get', 'networkName', '--data', dir])).stdout.trim(), '"saved-net"')
  const refusals = [['set', 'bogus', '1'], ['set', 'dialTimeoutMs', '-5'], ['set', 'dataDir', '/tmp'], ['set', 'discovery.bogus', 'true'],
    ['set', 'listen.length', '0'], ['set', 'listen.foo', 'bar'], ['set', 'listen', ''], ['set', 'listen', ','], ['set', 'networkName', 'null'],
    ['set', 'discovery', 'null'], ['set', 'discovery.relayLimits', '{"x":1}'], ['set', 'discovery.constructor', '1'], ['get', 'listen.length'],
    ['set', '__proto__.polluted', '1'], ['set', 'pubsub.nope', '1']]
  for (const bad of refusals) {
    const refused = await runCli(['config', ...bad, '--data', dir])
    assert.is(refused.code, 2, `${bad.join(' ')}: ${refused.stdout}${refused.stderr}`)
  }
  // a key that is not set: a failure, as in git config
  assert.is((await runCli(['config', 'get', 'redialMaxMs', '--data', dir])).code, 1)
  assert.is((await runCli(['config', 'get', 'discovery.constructor', '--data', dir])).code, 1)
  assert.equal(JSON.parse((await runCli(['config', 'show', '--json', '--data', dir])).stdout), { listen: ['/ip4/127.0.0.1/tcp/0'], networkName: 'saved-net' })
  assert.is((await runCli(['config', 'unset', 'networkName', '--data', dir])).code, 0)
  assert.is((await runCli(['config', 'set', 'listen', '/ip4/127.0.0.1/tcp/4391', '--data', dir])).code, 0)
  const started = await startDaemon(['--data', dir])
  daemons.push(started)
  assert.match(started.output(), /listening on \/ip4\/127\.0\.0\.1\/tcp\/4391\//)
  await writeFile(join(dir, 'config.json'), '{ not json')
  const broken = await runCli(['config', 'show', '--data', dir])
  assert.is(broken.code, 2)
  assert.match(broken.stderr, /config\.json is not valid JSON/)
})

test('--log-file keeps the node log; --json errors are JSON on stderr', async () => {
  const log = await readFile(join(root, 'b.log'), 'utf8')
  assert.match(log, new RegExp(`^dms-net node ${peers.b!.peerId}$`, 'm'))
  assert.match(log, /peer\.connected/)
  const failed = await runCli(['disconnect', '12D3KooWRnhfNPCsy3ebbMpmhDw8EEKmSWH3C39qFtf5Mu7Ye6i3', '--json', '--data', dirs.b!])
  assert.is(failed.code, 1)
  assert.equal(JSON.parse(failed.stderr), { error: { code: 'NOT_CONNECTED', message: 'not connected to 12D3KooWRnhfNPCsy3ebbMpmhDw8EEKmSWH3C39qFtf5Mu7Ye6i3: nothing to close' } })
  const usage = await runCli(['ping', '--json', '--data', dirs.b!])
  assert.is(usage.code, 2)
  assert.is((JSON.parse(usage.stderr) as { error: { code: string } }).error.code, 'USAGE')
  const noNode = await runCli(['status', '--json', '--data', join(root, 'none')])
  assert.is(noNode.code, 1)
  assert.is((JSON.parse(noNode.stderr) as { error: { code: string } }).error.code, 'NODE_UNREACHABLE')
})

test('swarm create and vpn start take aliases and prefixes too', async () => {
  const created = await runCli(['swarm', 'create', '--authorise', 'hub', '--json', '--data', dirs.b!])
  assert.is(created.code, 0, created.stderr)
  assert.equal((JSON.parse(created.stdout) as { authorised: string[] }).authorised, [peers.a!.peerId])
})

test('completion: bash, zsh and fish offer aliases, peer ids, subcommands and event types', async () => {
  const script = join(root, 'completion.bash')
  await writeFile(script, (await runCli(['completion', 'bash'])).stdout)
  const complete = (words: string[]): string[] => {
    const line = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _dms_net; printf '%s\\n' "\${COMPREPLY[@]}"`
    const bin = join(root, 'bin')
    spawnSync('mkdir', ['-p', bin])
    spawnSync('ln', ['-sf', cliPath, join(bin, 'dms-net')])
    return spawnSync('bash', ['-c', line], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, DMS_NET_DATA: dirs.b! } }).stdout.trim().split('\n')
  }
  assert.ok(complete(['dms-net', 'ping', '']).includes('hub'))
  assert.ok(complete(['dms-net', 'ping', '']).includes(peers.a!.peerId))
  assert.equal(complete(['dms-net', 'events', '--type', 'peer.con']), ['peer.connected'])
  assert.ok(complete(['dms-net', 'net']).includes('netcheck'))
  assert.equal(complete(['dms-net', 'completion', 'f']), ['fish'])
  // the peers of the node named by --data on the command line
  assert.ok(complete(['dms-net', 'ping', '--data', dirs.a!, '']).includes(peers.b!.peerId))
  // zsh: the function itself, with compadd recording what it offers (compadd's own prefix filter is zsh's)
  const zshScript = join(root, 'completion.zsh')
  await writeFile(zshScript, (await runCli(['completion', 'zsh'])).stdout)
  const bin = join(root, 'bin')
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, DMS_NET_DATA: dirs.b! }
  const zsh = (words: string[]): string[] => spawnSync('zsh', ['-c', `compdef() {}; compadd() { [[ $1 == -a ]] && print -l -- \${(P)2} }; source ${zshScript}; words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; _dms_net`], { encoding: 'utf8', env }).stdout.trim().split('\n')
  assert.ok(zsh(['dms-net', 'ping', '']).includes('hub'), 'zsh offers aliases')
  assert.ok(zsh(['dms-net', 'ping', '']).includes(peers.a!.peerId), 'zsh offers peer ids')
  assert.ok(zsh(['dms-net', 'events', '--type', 'peer.con']).includes('peer.connected'))
  assert.ok(zsh(['dms-net', 'vpn', '']).includes('publish'))
  // fish: its own completion engine, as a user's shell runs it
  const fishScript = join(root, 'completion.fish')
  await writeFile(fishScript, (await runCli(['completion', 'fish'])).stdout)
  const fish = (line: string): string[] => spawnSync('fish', ['-c', `source ${fishScript}; complete -C '${line}'`], { encoding: 'utf8', env }).stdout.trim().split('\n').map((l) => l.split('\t')[0]!)
  assert.equal(fish('dms-net events --type peer.con'), ['peer.connected'])
  assert.ok(fish('dms-net net').includes('netcheck'))
  assert.ok(fish('dms-net ping ').includes('hub'), `fish offers aliases: ${fish('dms-net ping ').join(' ')}`)
})

test('help fits 80 columns, and in an 80-column tmux status, peers, help and the node log do not wrap', async () => {
  const { commands } = await import('../../runtime/cli/commands/index.js')
  for (const name of ['', ...commands.map((c) => c.name)]) {
    const help = await runCli([...(name === '' ? [] : [name]), '--help'])
    assert.ok(widest(help.stdout) <= 80, `${name} --help:\n${help.stdout}`)
  }
  const env = { ...process.env, TMUX_TMPDIR: root }
  const tmux = (...args: string[]): string => spawnSync('tmux', args, { encoding: 'utf8', env }).stdout
  const shown = `node ${cliPath} status --data ${dirs.b!}; node ${cliPath} peers --data ${dirs.b!}; node ${cliPath} --help; node ${cliPath} netcheck --data ${dirs.b!}`
  tmux('new-session', '-d', '-s', 'w80', '-x', '80', '-y', '200', `${shown}; sleep 30`)
  // a daemon logging on the terminal: its events break between facts
  tmux('new-window', '-t', 'w80', `node ${cliPath} node --data ${join(root, 'tty')} --bootstrap ${peers.a!.address}; sleep 30`)
  let panes = ''
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    // -J joins lines the terminal wrapped: a joined line longer than 80 columns was wrapped
    panes = tmux('capture-pane', '-p', '-J', '-t', 'w80:0') + tmux('capture-pane', '-p', '-J', '-t', 'w80:1')
    if (/commands:/.test(panes) && /clock/.test(panes) && /peer\.identified/.test(panes)) break
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  assert.match(panes, /PEER\s+NETWORK\s+STATE\s+PATH/)
  assert.match(panes, /peer\.identified/)
  assert.ok(widest(panes) <= 80, panes)
  tmux('send-keys', '-t', 'w80:1', 'C-c', '')
})

test.run()
