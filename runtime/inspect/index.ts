/** The inspector: `startInspectorServer()` and an observer per node. See docs/inspector.md. */
export { startInspectorServer } from './inspector-server.js'
export type { InspectorServer, InspectorServerInit } from './inspector-server.js'
export { sanitize } from './sanitize.js'
export type { SanitizedInspectionEvent, InspectObserver } from './sanitized-inspector.js'
export { chartModel, mermaid } from './chart-model.js'
export type { ChartModel, ChartState, ChartTransition } from './chart-model.js'
export { machineCatalog } from './machine-catalog.js'
