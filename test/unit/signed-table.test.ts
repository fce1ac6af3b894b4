import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createTable, addMembers } from '../../machines/vpn-table.js'
import { publishPort } from '../../machines/vpn-ports.js'
import { addRule, setPolicy } from '../../machines/vpn-policy.js'
import { openSignedTable, signTable } from '../../runtime/vpn/signed-table.js'

test('generated unsigned extras: fields added on the way to a signed table still verify (the signature does not cover them) and never come out of it', async () => {
  const key = await generateKeyPair('Ed25519')
  const leader = peerIdFromPrivateKey(key).toString()
  const member = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  let table = addMembers(createTable({ vpnId: 'v', leader, subnet: '10.9.0.0/24', hosts: [], domain: 'dms' }), [member], { [member]: ['/ip4/10.0.0.2/tcp/4001'] })
  table = publishPort(table, { at: leader, protocol: 'tcp', port: 8080, to: { ip: table.members[member]!.ip, port: 80 } })
  table = addRule(setPolicy(table, true), { from: leader, to: member, protocol: 'tcp', ports: [1, 2] })
  const signed = await signTable(key, table)
  const clean = JSON.stringify((await openSignedTable(structuredClone(signed))))
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('table', 'member', 'port', 'to', 'rule', 'policy'), fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }),
    async (where, name, value) => {
      const copy = structuredClone(signed)
      const t = copy.table as unknown as Record<string, any>
      const target = { table: t, member: t.members[member], port: t.ports[0], to: t.ports[0].to, rule: t.policy.rules[0], policy: t.policy }[where]
      // only a field the signature does not name: an extra, never a change to a signed one
      if (Object.hasOwn(target, name) || name === '__proto__') return
      target[name] = value
      const opened = await openSignedTable(copy).catch(() => undefined)
      if (opened == null) return // refused outright by the shape check: nothing came out
      assert.is(JSON.stringify(opened), clean, `${where}.${name} came through`)
    }), { numRuns: 200 })
})

test.run()
