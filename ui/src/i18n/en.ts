// English UI strings. Every key must also exist in zh-CN.ts (checked by i18n.test.ts).
const en = {
  common: {
    apply: 'Apply', cancel: 'Cancel', clear: 'Clear', confirmDelete: 'Delete this item?', delete: 'Delete', design: 'Design',
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
};

export default en;
