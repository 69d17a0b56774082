export function FlowRuns() { return null; }
export function RunDetail() { return null; }
