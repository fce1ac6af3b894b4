// Generated addresses against every check that takes one (dial, listen, bootstrap): each is taken or
// refused with the node's own code, never a library's error (a /p2p/ part that is no peer id once
// reached libp2p's multibase decoder and came back as a raw message).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { checkDial, checkListen } from '../../runtime/dial-options.js'
import { parseConfig } from '../../runtime/config.js'
import { DmsError } from '../../runtime/errors.js'
import { prng } from '../support/prng.js'

const SELF = '12D3KooWMY9kQBxGDAnhZze85aQr9qouZZZcsX7nARc95UngPvYC'
const OTHER = '12D3KooWJDZZFijhQEokzmpfKcEZJEtMrW7yZBnNftJQrzjZh1Mb'
const PARTS = [
  '/ip4/127.0.0.1', '/ip4/999.1.1.1', '/ip6/::1', '/dns4/localhost', '/tcp/0', '/tcp/4001', '/tcp/70000', '/udp/4001',
  '/quic-v1', '/ws', `/p2p/${OTHER}`, `/p2p/${SELF}`, '/p2p/xyz', '/p2p/QmNotAPeer', '/p2p/12D3KooW', '/p2p-circuit',
  '/nope/1', '/', '//', 'garbage', '/ip4', '/tcp'
]

/** What a check did: 'ok', or the DmsError code it refused with. Anything else fails the test. */
function outcome (check: () => unknown, address: string): string {
  try {
    check()
    return 'ok'
  } catch (err) {
    assert.instance(err, DmsError, `${address}: ${String(err)}`)
    return (err as DmsError).code
  }
}

test('2000 generated addresses: dial, listen and bootstrap take them or refuse them with their own codes', () => {
  const random = prng(26)
  for (let i = 0; i < 2000; i++) {
    const address = Array.from({ length: 1 + Math.floor(random() * 5) }, () => PARTS[Math.floor(random() * PARTS.length)]!).join('')
    const dial = outcome(() => { checkDial(address, {}, SELF) }, address)
    assert.ok(['ok', 'BAD_ADDRESS', 'BAD_PEER_ID'].includes(dial), `${address}: dial ${dial}`)
    if (dial === 'ok') {
      // what dial takes is a multiaddr whose /p2p/ parts are all peer ids, and it is not this node
      const peers = multiaddr(address).getComponents().filter((c) => c.name === 'p2p').map((c) => c.value!)
      for (const peer of peers) peerIdFromString(peer)
      assert.is.not(peers.at(-1), SELF, address)
    }
    const listen = outcome(() => checkListen(address), address)
    assert.ok(['ok', 'BAD_ADDRESS'].includes(listen), `${address}: listen ${listen}`)
    if (listen === 'ok') assert.ok(address.includes('/tcp/') || address.includes('/p2p-circuit'), `${address}: listened on without TCP or a relay`)
    const bootstrap = outcome(() => parseConfig({ bootstrap: [address] }), address)
    assert.ok(['ok', 'CONFIG_INVALID'].includes(bootstrap), `${address}: bootstrap ${bootstrap}`)
    if (bootstrap === 'ok') assert.ok(address.includes('/p2p/'), `${address}: a bootstrap peer without an id`)
  }
})

test.run()
