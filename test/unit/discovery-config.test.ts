import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseDiscovery } from '../../runtime/discovery/config.js'
import { mechanismsOf } from '../../runtime/discovery/discovery-status.js'
import { discoveryFromFlags } from '../../runtime/cli/discovery-flags.js'
import { UsageError } from '../../runtime/cli/command.js'

const parse = (init: unknown): { config: ReturnType<typeof parseDiscovery>, problems: string[] } => {
  const problems: string[] = []
  return { config: parseDiscovery(init as never, problems), problems }
}

test('defaults: everything off, prefix /dms, relay limits filled in', () => {
  const { config, problems } = parse(undefined)
  assert.equal(problems, [])
  assert.equal(mechanismsOf(config), [])
  assert.is(config.dhtPrefix, '/dms')
  assert.equal(config.relayLimits, { maxReservations: 32, durationMs: 120_000, dataBytes: 16 << 20 })
  assert.is(config.rendezvousIntervalMs, 60_000)
})

test('hole punching implies the relay client; mechanisms are listed in a fixed order', () => {
  const { config } = parse({ dht: true, dhtPrefix: '/dms/lan', holePunching: true, rendezvous: 'jobs', announce: ['/ip4/11.0.0.1/tcp/4001'] })
  assert.ok(config.relayClient)
  assert.equal(mechanismsOf(config), ['dht /dms/lan/kad/1.0.0', 'rendezvous jobs', 'relay-client', 'hole-punching', 'announce /ip4/11.0.0.1/tcp/4001'])
})

test('STUN servers: host:port, implying hole punching; a bad one is named', () => {
  const { config, problems } = parse({ stun: ['11.77.0.1:3478', 'stun.example.org:3478'] })
  assert.equal(problems, [])
  assert.ok(config.holePunching && config.relayClient)
  assert.equal(config.stun, ['11.77.0.1:3478', 'stun.example.org:3478'])
  assert.ok(mechanismsOf(config).includes('stun 11.77.0.1:3478 stun.example.org:3478'))
  for (const bad of [['11.77.0.1'], ['11.77.0.1:0'], ['11.77.0.1:70000'], [':3478'], [3478], 'host:1']) {
    const result = parse({ stun: bad })
    assert.is(result.problems.length, 1, JSON.stringify(bad))
    assert.match(result.problems[0]!, /^discovery\.stun must be a list of host:port STUN servers/)
    assert.equal(result.config.stun, [])
  }
  assert.equal(discoveryFromFlags({ stun: ['11.77.0.1:3478'] }), { holePunching: true, stun: ['11.77.0.1:3478'] })
})

test('every bad field is reported, named', () => {
  const { problems } = parse({ dht: 1, rendezvous: 'a b', rendezvousIntervalMs: 10, rendezvousMaxDials: 0, relayLimits: { durationMs: 1.5 }, announce: 'x' })
  assert.equal(problems.length, 6, problems.join('\n'))
  for (const field of ['discovery.dht', 'discovery.rendezvous', 'discovery.rendezvousIntervalMs', 'discovery.rendezvousMaxDials', 'discovery.relayLimits.durationMs', 'discovery.announce']) {
    assert.ok(problems.some((p) => p.startsWith(field)), field)
  }
})

test('CLI flags: --nat is the home preset, --rendezvous implies --dht, a bad count is a usage error; only what a flag switches on is set', () => {
  assert.equal(discoveryFromFlags({ nat: true }), { dht: true, relayClient: true, autonat: true, holePunching: true })
  assert.equal(discoveryFromFlags({ rendezvous: 'dms', 'relay-server': true, 'relay-max-reservations': '4' }), {
    dht: true, rendezvous: 'dms', relayServer: true, relayLimits: { maxReservations: 4 }
  })
  // no flags: nothing set, so a --config file's discovery choices stand
  assert.equal(discoveryFromFlags({}), {})
  assert.throws(() => discoveryFromFlags({ 'relay-max-reservations': '-2' }), (err: unknown) => err instanceof UsageError && /--relay-max-reservations/.test((err as Error).message))
})

test.run()
