import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile, readFile, stat } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startDaemon, cliPath } from '../support/cli.js'

let root = ''
const daemons: Array<{ stop: () => Promise<number | null> }> = []
test.before.each(async () => { root = await mkdtemp(join(tmpdir(), 'dms-cli-swarm-')) })
test.after.each(async () => {
  await Promise.allSettled(daemons.splice(0).map(async (d) => await d.stop()))
  await rm(root, { recursive: true, force: true })
})

const dir = (name: string): string => join(root, name)
async function daemon (name: string) {
  const started = await startDaemon(['--data', dir(name)])
  daemons.push(started)
  return started
}

test('swarm create / join / outsider denied / rotate / revoke / status through the CLI', async () => {
  await daemon('owner')
  await daemon('member')
  await daemon('outsider')
  const id = async (name: string): Promise<string> => (await runCli(['id', '--data', dir(name)])).stdout.trim()
  const member = await id('member')
  const ownerStatus = JSON.parse((await runCli(['status', '--json', '--data', dir('owner')])).stdout) as { host: { addresses: string[] } }
  const ownerAddress = ownerStatus.host.addresses[0]!

  const created = await runCli(['swarm', 'create', '--authorise', member, '--data', dir('owner')])
  assert.is(created.code, 0, created.stderr)
  assert.match(created.stdout, /role\s+owner/)
  assert.match(created.stdout, /state\s+active/)

  const joined = await runCli(['swarm', 'join', '--owner', ownerAddress, '--json', '--data', dir('member')])
  assert.is(joined.code, 0, joined.stderr)
  const joinedStatus = JSON.parse(joined.stdout) as { state: string, fingerprint: string }
  assert.is(joinedStatus.state, 'joined')

  const refused = await runCli(['swarm', 'join', '--owner', ownerAddress, '--data', dir('outsider')])
  assert.is(refused.code, 1)
  assert.match(refused.stderr, /denied: not-authorised/)

  const rotated = await runCli(['swarm', 'rotate', '--json', '--data', dir('owner')])
  assert.is(rotated.code, 0, rotated.stderr)
  assert.is((JSON.parse(rotated.stdout) as { epoch: number }).epoch, 2)
  const status = await runCli(['swarm', 'status', '--data', dir('owner')])
  assert.match(status.stdout, /key\s+[0-9a-f]{16} \(fingerprint\)/)
  assert.match(status.stdout, /bootstrap\s+\/ip4\/127\.0\.0\.1\/tcp\/\d+(\s|$)/, 'the owner\'s own id is not repeated')
  const memberStatus = await runCli(['swarm', 'status', '--data', dir('member')])
  for (const line of [...status.stdout.split('\n'), ...memberStatus.stdout.split('\n')]) assert.ok(line.length <= 80, `${line.length} columns: ${line}`)
  // at 60 the owner's whole id goes under its label
  const narrow = await runCli(['swarm', 'status', '--data', dir('member')], 30_000, { COLUMNS: '60' })
  for (const line of narrow.stdout.split('\n')) assert.ok(line.length <= 60, `${line.length} columns: ${line}`)
  assert.match(narrow.stdout, /^owner\n  12D3KooW\S{44}$/m)
  const ownerLeaves = await runCli(['swarm', 'leave', '--data', dir('owner')])
  assert.is(ownerLeaves.code, 1)
  assert.match(ownerLeaves.stderr, /owns the private swarm: an owner does not leave it, it dissolves it \(dms-net swarm dissolve\)/)

  const revoked = await runCli(['swarm', 'revoke', member, '--json', '--data', dir('owner')])
  assert.is(revoked.code, 0, revoked.stderr)
  assert.equal((JSON.parse(revoked.stdout) as { authorised: string[] }).authorised, [])

  const exported = await runCli(['swarm', 'key', 'export', '--data', dir('owner')])
  assert.match(exported.stdout, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/)
  assert.not.ok(status.stdout.includes(exported.stdout.split('\n')[2]!), 'status never shows the key')

  const dissolved = await runCli(['swarm', 'dissolve', '--data', dir('owner')])
  assert.is(dissolved.code, 0, dissolved.stderr)
  assert.match(dissolved.stdout, /role\s+none/)
})

test('swarm key import/export work on the data dir without a running node; bad input is refused', async () => {
  const key = `/key/swarm/psk/1.0.0/\n/base64/\n${Buffer.alloc(32, 7).toString('base64')}\n`
  await writeFile(join(root, 'in.key'), key)
  const imported = await runCli(['swarm', 'key', 'import', join(root, 'in.key'), '--data', dir('n')])
  assert.is(imported.code, 0, imported.stderr)
  const exported = await runCli(['swarm', 'key', 'export', '--encoding', 'base64', '--data', dir('n')])
  assert.is(exported.stdout, key.trimEnd())
  const out = join(root, 'out.key')
  const written = await runCli(['swarm', 'key', 'export', '--encoding', 'base64', '--out', out, '--data', dir('n')])
  assert.is(written.code, 0, written.stderr)
  assert.is(await readFile(out, 'utf8'), key.trimEnd())
  assert.is((await stat(out)).mode & 0o777, 0o600)
  assert.not.match(written.stdout, /BwcH/, 'the key is not echoed')
  // a mistyped --out does not make directories for the network's secret
  const astray = join(root, 'no-such-dir', 'deeper', 'k')
  const refused = await runCli(['swarm', 'key', 'export', '--out', astray, '--data', dir('n')])
  assert.is(refused.code, 2, refused.stderr)
  assert.match(refused.stderr, /there is no directory .*no-such-dir\/deeper/)
  assert.is(await stat(join(root, 'no-such-dir')).then(() => true, () => false), false, 'no directory was made')
  // on a terminal the key is refused unless forced (script(1) gives the command a real tty)
  const onTty = await new Promise<string>((resolve) => {
    execFile('script', ['-qec', `${process.execPath} ${cliPath} swarm key export --data ${dir('n')}`, '/dev/null'], (_error, stdout) => { resolve(stdout) })
  })
  assert.match(onTty, /will not print the key to a terminal/)
  assert.not.match(onTty, /BwcH/)
  await writeFile(join(root, 'bad.key'), 'garbage')
  const bad = await runCli(['swarm', 'key', 'import', join(root, 'bad.key'), '--data', dir('n')])
  assert.is(bad.code, 1)
  assert.match(bad.stderr, /bad\.key: not a PSK v1 swarm key/)
  for (const [args, pattern] of [
    [['swarm'], /needs SUBCOMMAND/],
    [['swarm', 'fly'], /unknown swarm subcommand/],
    [['swarm', 'join'], /needs --owner/],
    [['swarm', 'join', '--owner', '/ip4/127.0.0.1/tcp/1'], /no \/p2p/],
    [['swarm', 'revoke'], /needs PEER/],
    [['swarm', 'key', 'export', '--encoding', 'hex'], /--encoding must be/],
    // an option of another subcommand is refused, not ignored
    [['swarm', 'leave', '--owner', '/ip4/127.0.0.1/tcp/1'], /swarm leave takes no --owner/],
    [['swarm', 'status', '--authorise', 'x'], /swarm status takes no --authorise/],
    [['swarm', 'create', '--out', 'f'], /swarm create takes no --out/]
  ] as const) {
    const result = await runCli([...args, '--data', dir('n')])
    assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
    assert.match(result.stderr, pattern)
  }
  const noNode = await runCli(['swarm', 'status', '--data', dir('n')])
  assert.is(noNode.code, 1)
  assert.match(noNode.stderr, /no node is running/)
})

test.run()
