// English strings of the flow builder's widgets (spread into en.ts as `fb`).
const fb = {
  add: 'Add', addLevel: 'Add level', addRoute: 'Add route', autoLayout: 'Arrange nodes', down: 'Move down', up: 'Move up',
  entityUnknown: 'Entity {{entity}} is not published yet.', expression: 'Expression', useExpression: 'Use an expression for this field',
  fastForward: 'Fast-forward to the next timer', fastForwarded: 'Simulated time moved past the next timer',
  fullScreen: 'Full screen', lastRun: 'Last test run', level: 'Level {{n}}', levelName: 'Level name', minimap: 'Mini map',
  modeAll: 'All of them must approve', modeAny: 'Any one approves', paletteHelp: 'Click to add after the selected node, or drag onto the canvas.',
  pickEntity: 'Choose an entity', pickRecord: 'Search a {{entity}} record by name', publishAndTest: 'Publish and test', startTest: 'Start test run',
  route: 'Route {{n}}', routeWhen: 'When', runDetails: 'Run details',
  scriptHelp: 'input.trigger and input.steps hold the run data; return the step output. Ctrl+Space completes fields and the host API (records, http.fetch, crypto, encoding, log).',
  scriptTitle: 'JavaScript', stepInput: 'Input', stepOutput: 'Output', test: 'Test',
  testManualInput: 'Input of the run (JSON), read as trigger.input.', testNeedsEntity: 'Choose the trigger\'s entity (or form) first.',
  testNoSample: 'Scheduled flows need no sample: the run starts as if the schedule fired now.', testOnRecord: 'The run starts as if this record had triggered the flow:',
  testPublishes: 'Test runs use the published flow: your changes are saved and published first.', testRun: 'Test run', testRunStatus: 'Test run:',
  testStarted: 'Test run started', testWebhookBody: 'Sample body of the webhook (JSON, kept for the next test).',
  triggerCondition: 'Only when', valueName: 'Name of a new value',
  runHidden: 'This run belongs to a flow you cannot open. Your task shows its record and the decisions so far.', openTasks: 'Open my tasks',
  cron: { invalid: 'Not a valid schedule', next: 'Next runs ({{tz}}):', preset: 'Common schedules', hourly: 'Every hour', daily9: 'Every day at 9:00', weekdays9: 'Weekdays at 9:00', monday9: 'Mondays at 9:00', monthly1: '1st of the month at 9:00' },
  people: {
    email: 'E-mail', other: 'Other', owner: "The record's owner", ownerManager: "Manager of the record's owner", pick: 'People, roles…',
    role: 'Everyone in role {{role}}', roles: 'Roles', special: 'Relative to the run', starter: 'Whoever started the run', users: 'People',
  },
  record: { default: "The trigger's record", found: 'First record found by {{name}}', step: 'Record of {{name}}', trigger: "The trigger's record" },
  unit: { m: 'minutes', h: 'hours', d: 'days' },
  webhook: { generate: 'Generate', sample: 'Sample request', secret: 'Signing secret', secretHelp: 'Callers sign the body with HMAC-SHA256 in X-Tessera-Signature.', url: 'URL' },
};
export default fb;
