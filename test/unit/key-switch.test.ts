import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { KeySwitch } from '../../actors/private-network/key-switch.js'
import type { CuttableConnection } from '../../actors/private-network/key-switch.js'
import { DmsError } from '../../runtime/errors.js'

/** A connection as the protector sees it: it can be cut, and says when it closed. */
class FakeConnection implements CuttableConnection {
  aborted?: Error
  closed = false
  private readonly listeners: Array<() => void> = []
  constructor (readonly name: string, readonly peer: string) {}
  abort (err: Error): void { this.aborted = err; this.close() }
  close (): void { if (this.closed) return; this.closed = true; for (const l of this.listeners.splice(0)) l() }
  addEventListener (_type: 'close', listener: () => void): void { this.listeners.push(listener) }
}

const key = (byte: number): Uint8Array => new Uint8Array(32).fill(byte)

test('no key: a connection is refused; a key of the wrong size is refused', () => {
  const keys = new KeySwitch()
  assert.throws(() => keys.take(), (err: unknown) => err instanceof DmsError && err.code === 'SWARM_FAILED')
  assert.throws(() => keys.use(new Uint8Array(31)), (err: unknown) => err instanceof DmsError && err.code === 'SWARM_KEY_INVALID')
})

test('a connection whose key was switched away during its handshake is cut when it registers', () => {
  const keys = new KeySwitch()
  keys.use(key(1))
  const taken = keys.take()
  keys.use(key(2))
  const late = new FakeConnection('late', 'p')
  assert.not.ok(keys.admit(late, taken.generation))
  assert.match(late.aborted?.message ?? '', /changed during the handshake/)
  assert.is(keys.size, 0)
})

test('the same key again cuts nothing; clear cuts everything', () => {
  const keys = new KeySwitch()
  keys.use(key(1))
  const a = new FakeConnection('a', 'p')
  keys.admit(a, keys.take().generation)
  assert.is(keys.use(key(1)), 0)
  assert.not.ok(a.closed)
  assert.is(keys.clear(), 1)
  assert.ok(a.aborted != null)
})

test('a handshake that took a key before a clear never registers on a later key, even the same bytes', () => {
  const keys = new KeySwitch()
  keys.use(key(1))
  const before = keys.take()
  keys.clear()
  keys.use(key(1))
  const late = new FakeConnection('late', 'p')
  assert.not.ok(keys.admit(late, before.generation))
  assert.ok(late.aborted != null)
})

test('a connection that closed before it registered is not kept', () => {
  const keys = new KeySwitch()
  keys.use(key(1))
  const { generation } = keys.take()
  const gone = new FakeConnection('gone', 'p')
  gone.close()
  assert.not.ok(keys.admit(Object.assign(gone, { status: 'closed' }), generation))
  assert.is(keys.size, 0)
})

type Step =
  | { kind: 'connect', peer: number }
  | { kind: 'handshake-straddles-switch', peer: number, byte: number }
  | { kind: 'close', index: number }
  | { kind: 'switch', byte: number, keep: number[] }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('connect' as const), peer: fc.nat(4) }),
  fc.record({ kind: fc.constant('handshake-straddles-switch' as const), peer: fc.nat(4), byte: fc.nat(3) }),
  fc.record({ kind: fc.constant('close' as const), index: fc.nat(30) }),
  fc.record({ kind: fc.constant('switch' as const), byte: fc.nat(3), keep: fc.uniqueArray(fc.nat(4), { maxLength: 5 }) })
)

test('generated interleavings: after every switch, each open connection is on the current key or was kept; none opened on a stale key survives', () => {
  fc.assert(fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
    const keys = new KeySwitch()
    keys.use(key(9))
    const all: Array<{ connection: FakeConnection, keyByte: number }> = []
    let currentByte = 9
    for (const s of steps) {
      if (s.kind === 'connect') {
        const { generation } = keys.take()
        const connection = new FakeConnection(`c${all.length}`, `p${s.peer}`)
        assert.ok(keys.admit(connection, generation))
        all.push({ connection, keyByte: currentByte })
      } else if (s.kind === 'handshake-straddles-switch') {
        const { generation } = keys.take()
        const changes = s.byte !== currentByte
        keys.use(key(s.byte))
        currentByte = s.byte
        const connection = new FakeConnection(`c${all.length}`, `p${s.peer}`)
        assert.is(keys.admit(connection, generation), !changes, 'a handshake survives only when the key did not change')
        all.push({ connection, keyByte: currentByte })
      } else if (s.kind === 'close') {
        all[s.index % Math.max(1, all.length)]?.connection.close()
      } else {
        const kept = new Set(s.keep.map((p) => `p${p}`))
        const openBefore = all.filter((c) => !c.connection.closed)
        const changes = s.byte !== currentByte
        const cut = keys.use(key(s.byte), (raw) => kept.has((raw as FakeConnection).peer))
        currentByte = s.byte
        if (!changes) { assert.is(cut, 0); continue }
        for (const c of openBefore) {
          // a connection is on the current key only if it survived; a kept peer's survives, every other is cut
          assert.is(c.connection.closed, !kept.has(c.connection.peer), `${c.connection.name} of ${c.connection.peer}`)
        }
        assert.is(cut, openBefore.filter((c) => !kept.has(c.connection.peer)).length)
      }
      assert.is(keys.size, all.filter((c) => !c.connection.closed).length, 'the switch tracks exactly the open connections')
    }
  }), { numRuns: 400 })
})

test.run()
