import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { uptime } from 'node:os'
import { parseHolder, processStart, startTimeOf } from '../../runtime/data-dir-lock.js'

test('the start time is field 22 of /proc/PID/stat, whatever the command name holds', () => {
  const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 19 20'
  for (const comm of ['node', 'a) (b c', ') ) )', 'x y', '']) assert.is(startTimeOf(`4242 (${comm}) ${rest}`), '987654', comm)
  assert.is(startTimeOf('4242 (node) S 1 2'), undefined, 'a short line has none')
  assert.is(startTimeOf('garbage'), undefined)
})

test("this process's start time matches the clock: seconds since boot when it started", () => {
  const start = Number(processStart(process.pid))
  // clock ticks (USER_HZ, 100 on Linux) since boot
  const startedAt = uptime() - process.uptime()
  assert.ok(Math.abs(start / 100 - startedAt) < 5, `${start / 100} s against ${startedAt} s`)
  assert.is(processStart(process.pid), startTimeOf(readFileSync('/proc/self/stat', 'utf8')))
  assert.is(processStart(2 ** 22 + 1), undefined, 'no such process')
})

test('lock files: pid and start time, or a pid alone (older versions); anything else is no holder', () => {
  assert.equal(parseHolder('123 456\n'), { pid: 123, start: '456' })
  assert.equal(parseHolder('123\n'), { pid: 123 })
  assert.equal(parseHolder('123 not-a-time'), { pid: 123 })
  for (const text of ['', 'x', '-5', '0', '99999999999999999999']) assert.is(parseHolder(text), undefined, text)
})

test.run()
