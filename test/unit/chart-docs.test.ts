import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createMachine } from 'xstate'
import { chartModel, mermaid } from '../../runtime/inspect/chart-model.js'
import { renderChartDocs } from '../../runtime/inspect/chart-docs.js'
import { vpnMachine } from '../../machines/vpn.js'

test('the committed charts in docs/machines are what the machine definitions produce', async () => {
  const stale = await renderChartDocs({ check: true })
  assert.equal(stale, [], `out of date (run npm run charts): ${stale.join(', ')}`)
})

test('the chart model of the VPN machine: states, initial, invoke outcomes and guards by name', () => {
  const model = chartModel(vpnMachine)
  assert.equal(model.states.map((s) => s.path), ['stopped', 'starting', 'running', 'stopping', 'failed'])
  assert.equal(model.states.filter((s) => s.initial).map((s) => s.path), ['stopped'])
  assert.ok(model.transitions.some((t) => t.source === 'starting' && t.target === 'running' && t.event === 'done: bringUp'))
  assert.ok(model.transitions.some((t) => t.source === 'running' && t.target === 'stopping' && t.event === 'vpn.stop' && t.guard === 'isLeader'))
  // internal transitions (no target) are in the model, not in the drawing
  assert.ok(model.transitions.some((t) => t.source === 'running' && t.target === '' && t.event === 'vpn.addPeer'))
  assert.not.match(mermaid(model), /vpn\.addPeer/)
})

test('nested, parallel and delayed transitions render; a change in a machine changes its chart', () => {
  const machine = createMachine({
    id: 'toy',
    initial: 'a',
    states: {
      a: { after: { 500: 'b' } },
      b: { type: 'parallel', states: { left: { initial: 'x', states: { x: { on: { go: 'y' } }, y: { type: 'final' } } }, right: {} } }
    }
  })
  const text = mermaid(chartModel(machine))
  assert.match(text, /a --> b: after 500ms/)
  assert.match(text, /state "b" as b \{/)
  assert.match(text, /--/)
  assert.match(text, /b_left_x --> b_left_y: go/)
  assert.match(text, /b_left_y --> \[\*\]/)
  const changed = createMachine({ ...machine.config, states: { ...machine.config.states, c: {} } })
  assert.is.not(mermaid(chartModel(changed)), text)
})

test.run()
