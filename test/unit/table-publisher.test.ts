import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TablePublisher } from '../../runtime/vpn/table-publisher.js'
import type { SignedTable } from '../../runtime/vpn/signed-table.js'
import { createTable } from '../../machines/vpn-table.js'

// the publisher needs only the messenger: a stub stands in for it (runtime/node-components.ts)
const signed = (version: number): SignedTable => ({ table: { ...createTable({ vpnId: 'v', leader: 'L', subnet: '10.9.0.0/24', hosts: ['A', 'B'] }), version }, signature: new Uint8Array(64) })

test('each member gets the newest version; one that every try fails is reported unreachable, with the reason', async () => {
  const sent: string[] = []
  const unreachable: Array<[string, string]> = []
  const messages = {
    request: async (peer: string, _type: string, body: unknown): Promise<unknown> => {
      sent.push(`${peer} v${(body as SignedTable).table.version}`)
      if (peer === 'B') throw new Error('cannot open a messenger stream to B: no route')
      return { version: (body as SignedTable).table.version }
    }
  }
  const publisher = new TablePublisher({ messages } as never, (peer, reason) => { unreachable.push([peer, reason]) })
  await publisher.publish(signed(2), ['A', 'B'], { attempts: 2, timeoutMs: 100 })
  assert.equal(publisher.status(), { A: { version: 2 }, B: { version: 0, error: 'cannot open a messenger stream to B: no route' } })
  assert.equal(unreachable, [['B', 'cannot open a messenger stream to B: no route']], 'told once, after the last try')
  assert.equal(sent.filter((s) => s.startsWith('B')).length, 2)
  await publisher.publish(signed(2), ['A'], { attempts: 2 })
  assert.equal(sent.filter((s) => s.startsWith('A')), ['A v2'], 'a confirmed version is not sent again')
})

test('firstOutcome returns as soon as each peer confirmed or failed once', async () => {
  const messages = { request: async (): Promise<unknown> => { throw new Error('refused') } }
  const publisher = new TablePublisher({ messages } as never)
  const publishing = publisher.publish(signed(1), ['A'], { attempts: 3, timeoutMs: 100 })
  const started = Date.now()
  await publisher.firstOutcome(['A'], 1, 5000)
  assert.ok(Date.now() - started < 1000, 'not the whole timeout')
  await publishing
})

test.run()
