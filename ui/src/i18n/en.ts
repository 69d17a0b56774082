// English UI strings. Every key must also exist in zh-CN.ts (checked by i18n.test.ts).
const en = {
  common: {
    invalidJson: 'Not valid JSON yet', apply: 'Apply', cancel: 'Cancel', clear: 'Clear', confirmDelete: 'Delete this item?', delete: 'Delete', design: 'Design',
    edit: 'Edit', entity: 'Entity', loadMore: 'Load more', new: 'New', none: 'Nothing yet', notFound: 'This page does not exist.',
    required: 'Required', save: 'Save', slug: 'Identifier (slug)',
  },
  login: {
    email: 'Email', password: 'Password', submit: 'Sign in', subtitle: 'Low-code automation: forms, flows and reports.',
    invalid: 'Wrong email or password.',
  },
  nav: {
    apps: 'Apps', templates: 'Templates', tasks: 'My tasks', admin: 'Administration', users: 'Users', teams: 'Teams',
    roles: 'Roles', audit: 'Audit log', logout: 'Sign out',
  },
  apps: {
    title: 'Apps', create: 'New app', created: 'App created', empty: 'No apps yet.', fromTemplate: 'Start from a template',
    name: 'Name', slug: 'Identifier (slug)', slugHelp: 'Lower-case letters, digits and hyphens; starts with a letter.',
  },
  app: { export: 'Export' },
  kinds: { entities: 'Entities', forms: 'Forms', flows: 'Flows', reports: 'Reports', dashboards: 'Dashboards' },
  templates: { title: 'Template gallery', install: 'Install', installed: 'Template installed' },
  def: {
    saveDraft: 'Save draft', publish: 'Publish', versions: 'Versions', saved: 'Draft saved', published: 'Published version {{version}}',
    invalid: 'The definition has errors', noVersions: 'Not published yet', draft: 'Draft',
  },
  entity: {
    designer: 'Entity designer', openRecords: 'Open records', fields: 'Fields', addField: 'Add field', editField: 'Edit field',
    noFields: 'No fields yet: add the first one.', key: 'Key', keyHelp: 'Lower-case letters, digits and underscores; starts with a letter.',
    keyTaken: 'Another field already uses this key', type: 'Type', labelZh: 'Label (中文)', labelEn: 'Label (English)',
    required: 'Required', unique: 'Unique', indexed: 'Indexed', sensitive: 'Personal data', options: 'Options',
    optionsHelp: 'Type an option and press Enter.', min: 'Minimum', max: 'Maximum', precision: 'Decimals', currency: 'Currency',
    region: 'Default region', maxLength: 'Max length', pattern: 'Pattern (regex)', target: 'Target entity', multiple: 'Multiple values',
    accept: 'Allowed file types', maxSize: 'Max size (bytes)', prefix: 'Prefix', formula: 'Formula (expr)', default: 'Default value',
    description: 'Notes', dragToReorder: 'Drag to reorder', titleField: 'Title field', stages: 'Stages & gates',
    stageField: 'Stage field', stageFieldHelp: 'Choose a select field', stageOrder: 'Order', stage: 'Stage',
    probability: 'Win probability (0-1)', terminal: 'Terminal', gates: 'Gates (transition rules)', from: 'From', to: 'To',
    require: 'Condition, e.g. any(record.files, {.name contains "报价单"})', gateMessage: 'Message shown when blocked',
    addGate: 'Add gate', strict: 'Only listed transitions are allowed', dedupe: 'Duplicates',
    dedupeHelp: 'A new record matching all fields of any key group is a duplicate.', addDedupeKey: 'Add key group',
    onDuplicate: 'On duplicate', merge: 'Merge into the existing record', reject: 'Reject', applyJson: 'Apply JSON',
  },
  fieldTypes: {
    text: 'Text', textarea: 'Long text', number: 'Number', money: 'Money', percent: 'Percent', email: 'Email', phone: 'Phone',
    url: 'URL', date: 'Date', datetime: 'Date & time', select: 'Select', multiselect: 'Multi-select', boolean: 'Yes/No',
    user: 'User', team: 'Team', relation: 'Relation', attachment: 'Attachment', autonumber: 'Auto number', formula: 'Formula',
  },
  records: {
    new: 'New record', edit: 'Edit record', created: 'Record created', merged: 'Merged into an existing record', saved: 'Record saved',
    deleted: 'Record deleted', conflict: 'Someone else changed this record meanwhile. Reload it and try again.',
    search: 'Search', filter: 'Filter', field: 'Field', value: 'Value', addCondition: 'Add condition', createdAt: 'Created',
    updatedAt: 'Updated', table: 'Table', pipeline: 'Pipeline', moved: 'Moved to {{stage}}', gateBlocked: 'Stage change blocked',
    noEntity: 'This entity is not published yet.', details: 'Details', history: 'Timeline', upload: 'Upload',
  },
  ops: {
    eq: 'equals', ne: 'not equal', contains: 'contains', gt: '>', gte: '≥', lt: '<', lte: '≤', in: 'in (a,b)', empty: 'is empty',
  },
  history: {
    created: 'Created', updated: 'Updated', deleted: 'Deleted', stage: 'Stage changed', stage_changed: 'Stage changed',
    merged: 'Merged', attached: 'File attached',
  },
  forms: {
    designer: 'Form designer', fill: 'Fill in', palette: 'Entity fields', dropHere: 'Drag fields here', allPlaced: 'Every field is placed.',
    addAll: 'Add all fields', itemProps: 'Field settings', settings: 'Form settings', hidden: 'Hidden', width: 'Width (1-24)',
    public: 'Public form (no sign-in)', titleZh: 'Title (中文)', titleEn: 'Title (English)', defaults: 'Default values',
    defaultsHelp: 'One key=value per line, e.g. source=web', hiddenParams: 'Captured URL parameters', successMessage: 'Success message',
    consent: 'Consent text (PIPL)', submit: 'Submit', submitted: 'Submitted', thanks: 'Thank you, your submission was received.',
    again: 'Fill in again', notFound: 'This form is not published yet.', isPublic: 'This form is also public.',
  },
  flows: {
    credential: 'Credential (name)',
    designer: 'Flow designer', palette: 'Nodes', trigger: 'Trigger', triggerType: 'Trigger type', node: 'Node', nodeType: 'Node type',
    nodeName: 'Display name', operation: 'Connector operation', params: 'Parameters (JSON)', otherParams: 'Other parameters (JSON)',
    run: 'Run', runs: 'Runs', runInput: 'Input passed to the run as trigger.body (JSON).', started: 'Run started',
    noCatalog: 'The node catalog is unavailable; core node types are shown without parameter forms.', condition: 'Condition (expr)',
    mode: 'Mode', schedule: 'Cron schedule', timezone: 'Time zone', webhookKey: 'Webhook key', whenFields: 'Only when these fields change',
    pollTrigger: 'Connector trigger', interval: 'Poll every', intervalHelp: 'From 1m to 24h, e.g. 5m or 1h.',
    pollHelp: 'Each new item starts one run; read it as trigger.item.', noPollTriggers: 'No connector offers a polling trigger.',
    pollOk: 'Polling: {{count}} items started so far.', pollFailed: 'The last poll failed ({{count}} in a row): {{error}}',
    pollTimes: 'Last poll {{last}}, next {{next}}.',
    cat: { logic: 'Logic', integrations: 'Integrations', timing: 'Timing', control: 'Control', records: 'Records', people: 'People', connectors: 'Connectors', data: 'Data & scripts' },
  },
  triggers: {
    manual: 'Manual', webhook: 'Webhook', cron: 'Schedule (cron)', poll: 'New items (polling)',
    record: { created: 'Record created', updated: 'Record updated', deleted: 'Record deleted' },
    stage: { changed: 'Stage changed' },
    form: { submitted: 'Form submitted' },
  },
  nodes: {
    condition: 'Condition', switch: 'Switch', set: 'Set values', script: 'Script (JavaScript)', assign: 'Assign owner', delay: 'Delay',
    wait_event: 'Wait for event', task: 'Human task', approval: 'Approval', connector: 'Connector', subflow: 'Sub-flow', foreach: 'For each', report: 'Run report', notify: 'Notify',
    record: { create: 'Create record', update: 'Update record', find: 'Find records', delete: 'Delete record' },
  },
  runs: {
    run: 'Run', status: 'Status', version: 'Version', trigger: 'Trigger', started: 'Started', finished: 'Finished', flow: 'Flow',
    output: 'Output', retry: 'Retry', retried: 'Retry queued',
  },
  runStatus: { queued: 'Queued', running: 'Running', waiting: 'Waiting', succeeded: 'Succeeded', failed: 'Failed', canceled: 'Canceled' },
  tasks: {
    open: 'Open', done: 'Done', all: 'All', title: 'Task', kind: 'Kind', approval: 'Approval', task: 'Task', due: 'Due',
    overdue: 'overdue', reminded: 'Reminded', context: 'Context', record: 'Record', outcome: 'Outcome', approve: 'Approve', reject: 'Reject',
    complete: 'Complete', completed: 'Task completed', comment: 'Comment (optional)',
    outcomes: { approve: 'Approve', reject: 'Reject', done: 'Done', approved: 'Approved', rejected: 'Rejected', comment: 'Comment' },
  },
  notifications: {
    title: 'Notifications', empty: 'No notifications', markRead: 'Mark read', markAllRead: 'Mark all read', openInbox: 'My tasks',
    msg: {
      task_assigned: 'New task: {{title}}', approval_assigned: 'Approval requested: {{title}}',
      task_reminder: 'Reminder: task still open: {{title}}', approval_reminder: 'Reminder: approval still pending: {{title}}',
      task_escalated: 'Escalated to you (overdue): {{title}}', task_delegated: 'Delegated to you: {{title}}',
      task_delegated_by: '{{by}} delegated to you: {{title}}', approval_approved: 'Approved: {{title}}', approval_rejected: 'Rejected: {{title}}',
    },
  },
  reports: {
    builder: 'Report builder', view: 'View', kind: 'Kind', dimensions: 'Dimensions', measures: 'Measures', addDimension: 'Add dimension',
    addMeasure: 'Add measure', bucket: 'Bucket', chart: 'Chart', compare: 'Compare with previous', limit: 'Row limit', filters: 'Filters (JSON)',
    params: 'Kind parameters (JSON)', preview: 'Live preview', owner: 'Owner', team: 'Team', export: 'Export',
    exportAs: { csv: 'CSV (.csv)', xlsx: 'Excel (.xlsx)' }, refresh: 'Refresh', fields: 'Fields',
    dragHelp: 'Drag a field onto Dimensions or Measures.', pickEntity: 'Choose an entity first.', dropHere: 'Drop a field here',
    sort: 'Sort', asc: 'ascending', desc: 'descending', limitHelp: 'Top N: keep the first N rows after sorting (1-10000).',
    invalid: 'The report definition has errors'
  },
  reportKinds: {
    table: 'Table', pivot: 'Pivot', funnel: 'Funnel', dwell: 'Stage dwell time', kpi: 'KPI', stagnation: 'Stagnation list',
    penetration: 'Stage penetration', forecast: 'Weighted forecast', compare: 'Period comparison', cycle: 'Cycle time',
  },
  aggs: { count: 'Count', count_distinct: 'Distinct count', sum: 'Sum', avg: 'Average', min: 'Minimum', max: 'Maximum', median: 'Median', rate: 'Rate %' },
  charts: { bar: 'Bar', line: 'Line', pie: 'Pie', funnel: 'Funnel', heatmap: 'Heatmap', table: 'Table only' },
  buckets: { day: 'Day', week: 'Week', month: 'Month', quarter: 'Quarter', year: 'Year' },
  dashboards: {
    view: 'View', addWidget: 'Add widget', dateRange: 'Date range', filter: 'Filter (JSON)', applyFilters: 'Apply',
    clearFilters: 'Reset', widgetError: 'This widget could not be loaded',
  },
  reportParams: {
    funnel: 'e.g. {"stages":["new_lead","proposal","won"]}', dwell: 'e.g. {"include_open":true,"stuck":3}',
    stagnation: 'e.g. {"days":7,"stage":"proposal"}', penetration: 'e.g. {"from_stage":"demo_done","to_stage":"proposal","hours":72}',
    forecast: 'e.g. {"amount":"amount"}', cycle: 'e.g. {"to_stage":"won"}', pivot: 'e.g. {"date_field":"expected_close"}',
  },
  admin: {
    name: 'Name', status: 'Status', admin: 'Platform admin', disabled: 'Disabled', active: 'Active', newUser: 'New user',
    resetPassword: 'New password (leave empty to keep)', assignRoles: 'Roles', saved: 'Saved', newTeam: 'New team', parentTeam: 'Parent team',
    manager: 'Manager', newRole: 'New role', builtin: 'built-in', permissions: 'Permissions', resource: 'Resource', scope: 'Row scope',
    fieldRules: 'Field rules', hiddenFields: 'Hidden fields', readonlyFields: 'Read-only fields', at: 'Time', actor: 'Actor',
    action: 'Action', target: 'Target',
  },
  actions: {
    read: 'Read', create: 'Create', update: 'Update', delete: 'Delete', export: 'Export', run: 'Run', publish: 'Publish', manage: 'Manage',
  },
  scopes: { own: 'Own', team: 'Team', team_tree: 'Team & sub-teams', all: 'All' },
};

export default en;
