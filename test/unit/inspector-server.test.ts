import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { request as httpRequest } from 'node:http'
import { request } from 'node:http'
import WebSocket from 'ws'
import { startInspectorServer } from '../../runtime/inspect/inspector-server.js'
import { inspectPort } from '../../runtime/cli/arguments.js'
import { LiveSystem } from '../../runtime/inspect/live-system.js'

/** Read a server-sent-events stream until `count` data blocks arrived. */
async function readEvents (url: string, count: number): Promise<string[]> {
  return await new Promise((resolve, reject) => {
    const blocks: string[] = []
    const req = request(url, (res) => {
      let buffer = ''
      res.on('data', (chunk) => {
        buffer += chunk
        while (buffer.includes('\n\n')) {
          const at = buffer.indexOf('\n\n')
          blocks.push(buffer.slice(0, at))
          buffer = buffer.slice(at + 2)
          if (blocks.length >= count) { req.destroy(); resolve(blocks) }
        }
      })
    })
    req.on('error', (err) => { if (blocks.length < count) reject(err) })
    req.setTimeout(5000, () => { req.destroy(); reject(new Error(`only ${blocks.length} blocks`)) })
    req.end()
  })
}

test('the live model: actors appear with their machine, follow snapshots, leave when stopped; the log is bounded', () => {
  const system = new LiveSystem(5)
  system.apply('a', { type: '@xstate.actor', actorId: 'x:1', systemId: 'peer.public.P', machineId: 'peer', parentId: 'x:0' })
  system.apply('a', { type: '@xstate.snapshot', actorId: 'x:1', snapshot: { value: 'connected', status: 'active', context: {} }, event: { type: 'peer.connected' } })
  const actor = system.actors.get('a/x:1')!
  assert.is(actor.value, 'connected')
  assert.is(actor.parentId, 'a/x:0')
  system.apply('b', { type: '@xstate.actor', actorId: 'x:1' })
  assert.is(system.actors.size, 2, 'ids of two nodes do not collide')
  const changes = system.apply('a', { type: '@xstate.snapshot', actorId: 'x:1', snapshot: { value: 'connected', status: 'stopped' } })
  assert.equal(changes[0], { kind: 'gone', id: 'a/x:1' })
  for (let i = 0; i < 10; i++) system.apply('a', { type: '@xstate.event', actorId: 'x:0', event: { type: `e${i}` } })
  assert.is(system.log.length, 5)
  assert.is(system.log.at(-1)!.eventType, 'e9')
  system.forget('b')
  assert.is(system.actors.size, 0)
})

test('the server: loopback only; page, machines, an event stream and the Stately relay', async () => {
  const server = await startInspectorServer({ port: 0 })
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/)
    const api = (path: string): string => `${server.origin}/${path}?token=${server.token}`
    const page = await (await fetch(server.url)).text()
    assert.match(page, /dms-network inspector/)
    assert.not.match(page, /https?:\/\/(?!stately)/, 'the local page loads nothing from the internet')
    const machines = await (await fetch(api('api/machines'))).json() as Array<{ id: string, about: string }>
    assert.equal(machines.map((m) => m.id), ['node', 'host', 'peer', 'swarmOwner', 'swarmMember', 'vpn', 'messenger', 'discovery'])
    assert.is((await fetch(api('nope'))).status, 404)

    const observe = server.observer('alice')
    observe({ type: '@xstate.actor', actorId: 'x:0', machineId: 'node' })
    const events = readEvents(api('api/events'), 2)
    const relayed: Array<{ type: string, sessionId: string, name?: string, definition?: string }> = []
    const ws = new WebSocket(api('stately/ws').replace('http', 'ws'))
    ws.on('message', (data) => { relayed.push(JSON.parse(String(data))) })
    await new Promise((resolve) => ws.once('open', resolve))
    await new Promise((resolve) => setTimeout(resolve, 100))
    observe({ type: '@xstate.actor', actorId: 'x:1', systemId: 'vpn', machineId: 'vpn', parentId: 'x:0' })
    observe({ type: '@xstate.snapshot', actorId: 'x:1', snapshot: { value: 'running', status: 'active', context: {} }, event: { type: 'vpn.start' } })
    const [init, batch] = await events
    assert.match(init!, /^event: init/)
    assert.match(init!, /"machineId":"node"/)
    const changes = JSON.parse(batch!.replace(/^data: /, '')) as Array<{ kind: string }>
    assert.ok(changes.some((c) => c.kind === 'actor'))
    await new Promise((resolve) => setTimeout(resolve, 100))
    // the relay speaks @statelyai/inspect's format: the live actor first, then new actors with their machine definition
    assert.is(relayed[0]!.type, '@xstate.actor')
    assert.is(relayed[0]!.sessionId, 'alice/x:0')
    const vpnActor = relayed.find((e) => e.type === '@xstate.actor' && e.name === 'vpn')!
    assert.match(vpnActor.definition!, /"id":"vpn"/)
    assert.ok(relayed.some((e) => e.type === '@xstate.snapshot' && e.sessionId === 'alice/x:1'))
    ws.close()
  } finally {
    await server.close()
  }
})

test('web pages cannot read the inspector: no token, a foreign Origin (WebSocket hijacking) or a foreign Host (DNS rebinding) are refused', async () => {
  const server = await startInspectorServer({ port: 0 })
  try {
    server.observer('alice')({ type: '@xstate.actor', actorId: 'x:0', machineId: 'node' })
    const port = new URL(server.url).port
    const get = async (path: string, headers: Record<string, string> = {}): Promise<number> => await new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
      req.on('error', reject)
      req.end()
    })
    const withToken = (path: string): string => `${path}?token=${server.token}`
    assert.is(await get('/api/events'), 403, 'no token')
    assert.is(await get('/api/events?token=guess'), 403, 'a wrong token')
    assert.is(await get(withToken('/api/machines'), { host: `evil.example:${port}` }), 403, 'DNS rebinding: a foreign Host header')
    assert.is(await get(withToken('/api/machines'), { origin: 'http://evil.example' }), 403, 'a foreign Origin')
    assert.is(await get(withToken('/api/machines'), { host: `localhost:${port}`, origin: `http://localhost:${port}` }), 200, 'same origin')
    // cross-site WebSocket hijacking: a page elsewhere opens the relay with the right token but its own Origin
    const hijack = new WebSocket(`ws://127.0.0.1:${port}${withToken('/stately/ws')}`, { origin: 'http://evil.example' })
    const outcome = await new Promise<string>((resolve) => { hijack.on('open', () => { resolve('open') }); hijack.on('error', () => { resolve('refused') }) })
    assert.is(outcome, 'refused')
    const noToken = new WebSocket(`ws://127.0.0.1:${port}/stately/ws`)
    assert.is(await new Promise<string>((resolve) => { noToken.on('open', () => { resolve('open') }); noToken.on('error', () => { resolve('refused') }) }), 'refused')
  } finally {
    await server.close()
  }
})

test('a busy port and a bad --inspect value are clear errors', async () => {
  const first = await startInspectorServer({ port: 0 })
  try {
    const port = Number(new URL(first.url).port)
    const err = await startInspectorServer({ port }).catch((e: Error) => e)
    assert.match((err as Error).message, new RegExp(`inspector port ${port} on 127.0.0.1 is in use`))
  } finally {
    await first.close()
  }
  assert.throws(() => inspectPort('http'), /port from 0 to 65535/)
  assert.throws(() => inspectPort('70000'), /port from 0 to 65535/)
  assert.is(inspectPort('0'), 0)
})

test.run()
