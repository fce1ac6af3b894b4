// test-needs: ip ping nft
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createNamespace, listNamespaces } from '../../runtime/netdev/netns.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import { createVethPair } from '../../runtime/netdev/veth.js'
import { createBridge } from '../../runtime/netdev/bridge.js'
import { createVpnFirewall } from '../../runtime/netdev/nftables.js'
import { listLinks, deleteLink } from '../../runtime/netdev/link.js'
import { run } from '../../runtime/netdev/run.js'

const isRoot = process.getuid?.() === 0

const received = async (ns: Namespace, args: string[]): Promise<number> => {
  const out = await ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', ...args], { timeoutMs: 15_000 }).catch((err: Error) => err.message)
  return Number(/(\d+) received/.exec(out)?.[1] ?? 0)
}

test('run: argument arrays, failures carry the tool\'s message', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  const err = await run('ip', ['link', 'show', 'dev', 'no-such-dev; rm -rf /']).catch((e: Error) => e)
  assert.instance(err, Error)
  assert.match((err as Error).message, /ip link show dev no-such-dev; rm -rf \/ failed: .*(does not exist|Cannot find)/)
})

test('veth pair between namespaces carries pings; a bridge switches three hosts; everything is removed', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  const made: Namespace[] = []
  try {
    const a = await createNamespace('dms-nd'); made.push(a)
    const b = await createNamespace('dms-nd'); made.push(b)
    const pair = await createVethPair({ name: 'va', namespace: a.name, address: '10.77.1.1/24' }, { name: 'vb', namespace: b.name, address: '10.77.1.2/24' }, { mtu: 1400 })
    assert.is(await received(a, ['10.77.1.2']), 3)
    assert.match(await a.exec('ip', ['link', 'show', 'va']), /mtu 1400/)
    await pair.delete()
    await pair.delete() // idempotent
    assert.not.ok((await listLinks({ namespace: b.name })).includes('vb'), 'deleting one end removes both')

    const sw = await createNamespace('dms-nd'); made.push(sw)
    const bridge = await createBridge('br0', { namespace: sw.name })
    const c = await createNamespace('dms-nd'); made.push(c)
    for (const [i, ns] of [[1, a], [2, b], [3, c]] as const) {
      await createVethPair({ name: 'lan0', namespace: ns.name, address: `10.77.2.${i}/24` }, { name: `port${i}`, namespace: sw.name })
      await bridge.attach(`port${i}`)
    }
    assert.is(await received(a, ['10.77.2.3']), 3)
    assert.is(await received(c, ['10.77.2.2']), 3)
    await bridge.delete()
    assert.not.ok((await listLinks({ namespace: sw.name })).includes('br0'))
    await deleteLink('br0', { namespace: sw.name }) // already gone: not an error
    await deleteLink('nothing-here', { namespace: sw.name }) // never existed: not an error either
  } finally {
    for (const ns of made) await ns.delete()
  }
  const left = await listNamespaces()
  assert.not.ok(made.some((ns) => left.includes(ns.name)), 'namespaces removed')
})

test('VPN firewall: only member source IPs get through on the VPN device; the set can change; the table goes away', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  const a = await createNamespace('dms-fw')
  const b = await createNamespace('dms-fw')
  try {
    // the "VPN device" here is a veth end; the rule matches by input device and source address
    await createVethPair({ name: 'vpn0', namespace: b.name, address: '10.88.5.2/24' }, { name: 'up0', namespace: a.name, address: '10.88.5.1/24' })
    await a.exec('ip', ['addr', 'add', '10.88.5.99/24', 'dev', 'up0'])
    const firewall = await createVpnFirewall({ device: 'vpn0', allowed: ['10.88.5.1'], namespace: b.name })
    assert.is(await received(a, ['-I', '10.88.5.1', '10.88.5.2']), 3)
    assert.is(await received(a, ['-I', '10.88.5.99', '10.88.5.2']), 0)
    assert.ok(await firewall.drops() >= 3, 'drops counted')
    assert.match(await b.exec('nft', ['list', 'chain', 'inet', firewall.table, 'forward']), /iifname "vpn0" counter packets \d+ bytes \d+ drop/, 'nothing from the VPN device is forwarded')
    await firewall.allow(['10.88.5.1', '10.88.5.99'])
    assert.is(await received(a, ['-I', '10.88.5.99', '10.88.5.2']), 3)
    await firewall.allow([]) // an empty set is allowed
    const refused = await firewall.allow(['10.88.5.1; flush ruleset']).catch((err: Error) => err.message)
    assert.match(String(refused), /bad IPv4 address/)
    await firewall.delete()
    const tables = await b.exec('nft', ['list', 'tables'])
    assert.not.match(tables, firewall.table)
    const badDevice = await createVpnFirewall({ device: 'x; reboot', allowed: [], namespace: b.name }).catch((err: Error) => err.message)
    assert.match(String(badDevice), /bad device name/)
  } finally {
    await a.delete()
    await b.delete()
  }
})

test.run()
